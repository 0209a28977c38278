using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Evidence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "category",
                table: "interactions",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "active_users",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false),
                    day = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_active_users", x => new { x.system, x.day, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "feedback",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false),
                    rating = table.Column<int>(type: "integer", nullable: false),
                    comment = table.Column<string>(type: "text", nullable: true),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_feedback", x => new { x.interaction_id, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "incidents",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    system = table.Column<string>(type: "text", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    severity = table.Column<string>(type: "text", nullable: false),
                    title = table.Column<string>(type: "text", nullable: false),
                    description = table.Column<string>(type: "text", nullable: true),
                    status = table.Column<string>(type: "text", nullable: false),
                    assigned_to = table.Column<string>(type: "text", nullable: true),
                    reported_by = table.Column<string>(type: "text", nullable: false),
                    reported_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    review_note = table.Column<string>(type: "text", nullable: true),
                    interactions = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_incidents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "review_items",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    state = table.Column<string>(type: "text", nullable: false),
                    enqueued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    opened_by = table.Column<string>(type: "text", nullable: true),
                    done_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_review_items", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "reviews",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    final_text = table.Column<string>(type: "text", nullable: true),
                    reason = table.Column<string>(type: "text", nullable: true),
                    tags = table.Column<string>(type: "text", nullable: true),
                    escalated_to = table.Column<string>(type: "text", nullable: true),
                    reviewer = table.Column<string>(type: "text", nullable: false),
                    seconds = table.Column<double>(type: "double precision", nullable: false),
                    rework = table.Column<double>(type: "double precision", nullable: true),
                    rework_seconds = table.Column<double>(type: "double precision", nullable: false),
                    reviewed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    source = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_reviews", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "rollup_latency",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false),
                    phase = table.Column<string>(type: "text", nullable: false),
                    stage = table.Column<int>(type: "integer", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    hour = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    bucket = table.Column<int>(type: "integer", nullable: false),
                    count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollup_latency", x => new { x.system, x.phase, x.stage, x.config_version, x.hour, x.kind, x.bucket });
                });

            migrationBuilder.CreateTable(
                name: "rollups",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false),
                    phase = table.Column<string>(type: "text", nullable: false),
                    stage = table.Column<int>(type: "integer", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    hour = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    requests = table.Column<long>(type: "bigint", nullable: false),
                    served = table.Column<long>(type: "bigint", nullable: false),
                    refused = table.Column<long>(type: "bigint", nullable: false),
                    failed = table.Column<long>(type: "bigint", nullable: false),
                    held = table.Column<long>(type: "bigint", nullable: false),
                    shadowed = table.Column<long>(type: "bigint", nullable: false),
                    blocked = table.Column<long>(type: "bigint", nullable: false),
                    redacted = table.Column<long>(type: "bigint", nullable: false),
                    tokens_in = table.Column<long>(type: "bigint", nullable: false),
                    tokens_out = table.Column<long>(type: "bigint", nullable: false),
                    cost_nanos = table.Column<long>(type: "bigint", nullable: false),
                    latency_ms_sum = table.Column<double>(type: "double precision", nullable: false),
                    reviewed = table.Column<long>(type: "bigint", nullable: false),
                    accepted = table.Column<long>(type: "bigint", nullable: false),
                    edited = table.Column<long>(type: "bigint", nullable: false),
                    rejected = table.Column<long>(type: "bigint", nullable: false),
                    escalated = table.Column<long>(type: "bigint", nullable: false),
                    out_of_scope = table.Column<long>(type: "bigint", nullable: false),
                    review_seconds = table.Column<double>(type: "double precision", nullable: false),
                    rework_sum = table.Column<double>(type: "double precision", nullable: false),
                    rework_seconds = table.Column<double>(type: "double precision", nullable: false),
                    feedback_count = table.Column<long>(type: "bigint", nullable: false),
                    feedback_sum = table.Column<long>(type: "bigint", nullable: false),
                    task_count = table.Column<long>(type: "bigint", nullable: false),
                    task_minutes = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollups", x => new { x.system, x.phase, x.stage, x.config_version, x.hour, x.kind });
                });

            migrationBuilder.CreateTable(
                name: "task_times",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false),
                    minutes = table.Column<double>(type: "double precision", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_task_times", x => x.interaction_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_incidents_system_status",
                table: "incidents",
                columns: new[] { "system", "status" });

            migrationBuilder.CreateIndex(
                name: "IX_review_items_system_state_enqueued_at",
                table: "review_items",
                columns: new[] { "system", "state", "enqueued_at" });

            migrationBuilder.CreateIndex(
                name: "IX_reviews_system",
                table: "reviews",
                column: "system");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "active_users");

            migrationBuilder.DropTable(
                name: "feedback");

            migrationBuilder.DropTable(
                name: "incidents");

            migrationBuilder.DropTable(
                name: "review_items");

            migrationBuilder.DropTable(
                name: "reviews");

            migrationBuilder.DropTable(
                name: "rollup_latency");

            migrationBuilder.DropTable(
                name: "rollups");

            migrationBuilder.DropTable(
                name: "task_times");

            migrationBuilder.DropColumn(
                name: "category",
                table: "interactions");
        }
    }
}

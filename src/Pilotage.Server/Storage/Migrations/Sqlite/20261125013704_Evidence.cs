using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Sqlite
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
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "active_users",
                columns: table => new
                {
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    day = table.Column<int>(type: "INTEGER", nullable: false),
                    user_id = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_active_users", x => new { x.system, x.day, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "feedback",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "TEXT", nullable: false),
                    user_id = table.Column<long>(type: "INTEGER", nullable: false),
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    rating = table.Column<int>(type: "INTEGER", nullable: false),
                    comment = table.Column<string>(type: "TEXT", nullable: true),
                    at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_feedback", x => new { x.interaction_id, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "incidents",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    kind = table.Column<string>(type: "TEXT", nullable: false),
                    severity = table.Column<string>(type: "TEXT", nullable: false),
                    title = table.Column<string>(type: "TEXT", nullable: false),
                    description = table.Column<string>(type: "TEXT", nullable: true),
                    status = table.Column<string>(type: "TEXT", nullable: false),
                    assigned_to = table.Column<string>(type: "TEXT", nullable: true),
                    reported_by = table.Column<string>(type: "TEXT", nullable: false),
                    reported_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    resolved_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    review_note = table.Column<string>(type: "TEXT", nullable: true),
                    interactions = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_incidents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "review_items",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "TEXT", nullable: false),
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    kind = table.Column<string>(type: "TEXT", nullable: false),
                    state = table.Column<string>(type: "TEXT", nullable: false),
                    enqueued_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    opened_by = table.Column<string>(type: "TEXT", nullable: true),
                    done_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_review_items", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "reviews",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "TEXT", nullable: false),
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    outcome = table.Column<string>(type: "TEXT", nullable: false),
                    final_text = table.Column<string>(type: "TEXT", nullable: true),
                    reason = table.Column<string>(type: "TEXT", nullable: true),
                    tags = table.Column<string>(type: "TEXT", nullable: true),
                    escalated_to = table.Column<string>(type: "TEXT", nullable: true),
                    reviewer = table.Column<string>(type: "TEXT", nullable: false),
                    seconds = table.Column<double>(type: "REAL", nullable: false),
                    rework = table.Column<double>(type: "REAL", nullable: true),
                    rework_seconds = table.Column<double>(type: "REAL", nullable: false),
                    reviewed_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    source = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_reviews", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "rollup_latency",
                columns: table => new
                {
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    phase = table.Column<string>(type: "TEXT", nullable: false),
                    stage = table.Column<int>(type: "INTEGER", nullable: false),
                    config_version = table.Column<int>(type: "INTEGER", nullable: false),
                    hour = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", nullable: false),
                    bucket = table.Column<int>(type: "INTEGER", nullable: false),
                    count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollup_latency", x => new { x.system, x.phase, x.stage, x.config_version, x.hour, x.kind, x.bucket });
                });

            migrationBuilder.CreateTable(
                name: "rollups",
                columns: table => new
                {
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    phase = table.Column<string>(type: "TEXT", nullable: false),
                    stage = table.Column<int>(type: "INTEGER", nullable: false),
                    config_version = table.Column<int>(type: "INTEGER", nullable: false),
                    hour = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", nullable: false),
                    requests = table.Column<long>(type: "INTEGER", nullable: false),
                    served = table.Column<long>(type: "INTEGER", nullable: false),
                    refused = table.Column<long>(type: "INTEGER", nullable: false),
                    failed = table.Column<long>(type: "INTEGER", nullable: false),
                    held = table.Column<long>(type: "INTEGER", nullable: false),
                    shadowed = table.Column<long>(type: "INTEGER", nullable: false),
                    blocked = table.Column<long>(type: "INTEGER", nullable: false),
                    redacted = table.Column<long>(type: "INTEGER", nullable: false),
                    tokens_in = table.Column<long>(type: "INTEGER", nullable: false),
                    tokens_out = table.Column<long>(type: "INTEGER", nullable: false),
                    cost_nanos = table.Column<long>(type: "INTEGER", nullable: false),
                    latency_ms_sum = table.Column<double>(type: "REAL", nullable: false),
                    reviewed = table.Column<long>(type: "INTEGER", nullable: false),
                    accepted = table.Column<long>(type: "INTEGER", nullable: false),
                    edited = table.Column<long>(type: "INTEGER", nullable: false),
                    rejected = table.Column<long>(type: "INTEGER", nullable: false),
                    escalated = table.Column<long>(type: "INTEGER", nullable: false),
                    out_of_scope = table.Column<long>(type: "INTEGER", nullable: false),
                    review_seconds = table.Column<double>(type: "REAL", nullable: false),
                    rework_sum = table.Column<double>(type: "REAL", nullable: false),
                    rework_seconds = table.Column<double>(type: "REAL", nullable: false),
                    feedback_count = table.Column<long>(type: "INTEGER", nullable: false),
                    feedback_sum = table.Column<long>(type: "INTEGER", nullable: false),
                    task_count = table.Column<long>(type: "INTEGER", nullable: false),
                    task_minutes = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollups", x => new { x.system, x.phase, x.stage, x.config_version, x.hour, x.kind });
                });

            migrationBuilder.CreateTable(
                name: "task_times",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "TEXT", nullable: false),
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    minutes = table.Column<double>(type: "REAL", nullable: false),
                    user_id = table.Column<long>(type: "INTEGER", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
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

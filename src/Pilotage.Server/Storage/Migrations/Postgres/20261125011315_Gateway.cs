using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Gateway : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "pause_reason",
                table: "ai_systems",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "paused_at",
                table: "ai_systems",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "paused_by",
                table: "ai_systems",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "phase_since",
                table: "ai_systems",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateOnly>(
                name: "pilot_ends_override",
                table: "ai_systems",
                type: "date",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "resume_restricted",
                table: "ai_systems",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "approvals",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false),
                    state = table.Column<string>(type: "text", nullable: false),
                    held_response = table.Column<string>(type: "text", nullable: false),
                    held_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    decided_by = table.Column<string>(type: "text", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    reason = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_approvals", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "decisions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    system_id = table.Column<long>(type: "bigint", nullable: false),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    reason = table.Column<string>(type: "text", nullable: false),
                    decided_by = table.Column<string>(type: "text", nullable: false),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    from_phase = table.Column<string>(type: "text", nullable: false),
                    from_stage = table.Column<int>(type: "integer", nullable: false),
                    to_phase = table.Column<string>(type: "text", nullable: false),
                    to_stage = table.Column<int>(type: "integer", nullable: false),
                    evidence_json = table.Column<string>(type: "text", nullable: true),
                    evidence_hash = table.Column<string>(type: "text", nullable: true),
                    @override = table.Column<bool>(name: "override", type: "boolean", nullable: false),
                    new_end_date = table.Column<DateOnly>(type: "date", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_decisions", x => x.id);
                    table.ForeignKey(
                        name: "FK_decisions_ai_systems_system_id",
                        column: x => x.system_id,
                        principalTable: "ai_systems",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "interactions",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false),
                    phase = table.Column<string>(type: "text", nullable: false),
                    stage = table.Column<int>(type: "integer", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    user_email = table.Column<string>(type: "text", nullable: false),
                    key_id = table.Column<string>(type: "text", nullable: false),
                    groups = table.Column<string>(type: "text", nullable: false),
                    endpoint = table.Column<string>(type: "text", nullable: false),
                    mode = table.Column<string>(type: "text", nullable: false),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    refusal_code = table.Column<string>(type: "text", nullable: true),
                    refusal_reason = table.Column<string>(type: "text", nullable: true),
                    detector_hits = table.Column<string>(type: "text", nullable: true),
                    streamed = table.Column<bool>(type: "boolean", nullable: false),
                    tokens_in = table.Column<int>(type: "integer", nullable: false),
                    tokens_out = table.Column<int>(type: "integer", nullable: false),
                    cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: false),
                    first_byte_ms = table.Column<double>(type: "double precision", nullable: true),
                    total_ms = table.Column<double>(type: "double precision", nullable: false),
                    upstream_status = table.Column<int>(type: "integer", nullable: true),
                    request_hash = table.Column<string>(type: "text", nullable: true),
                    response_hash = table.Column<string>(type: "text", nullable: true),
                    request_content = table.Column<string>(type: "text", nullable: true),
                    response_content = table.Column<string>(type: "text", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_interactions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "training_acknowledgements",
                columns: table => new
                {
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    system_id = table.Column<long>(type: "bigint", nullable: false),
                    text_hash = table.Column<string>(type: "text", nullable: false),
                    acknowledged_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_acknowledgements", x => new { x.user_id, x.system_id });
                    table.ForeignKey(
                        name: "FK_training_acknowledgements_ai_systems_system_id",
                        column: x => x.system_id,
                        principalTable: "ai_systems",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_training_acknowledgements_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_approvals_system_state",
                table: "approvals",
                columns: new[] { "system", "state" });

            migrationBuilder.CreateIndex(
                name: "IX_decisions_system_id",
                table: "decisions",
                column: "system_id");

            migrationBuilder.CreateIndex(
                name: "IX_interactions_system_created_at",
                table: "interactions",
                columns: new[] { "system", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_training_acknowledgements_system_id",
                table: "training_acknowledgements",
                column: "system_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "approvals");

            migrationBuilder.DropTable(
                name: "decisions");

            migrationBuilder.DropTable(
                name: "interactions");

            migrationBuilder.DropTable(
                name: "training_acknowledgements");

            migrationBuilder.DropColumn(
                name: "pause_reason",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "paused_at",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "paused_by",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "phase_since",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "pilot_ends_override",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "resume_restricted",
                table: "ai_systems");
        }
    }
}

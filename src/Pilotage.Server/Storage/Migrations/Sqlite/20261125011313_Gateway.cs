using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Sqlite
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
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "paused_at",
                table: "ai_systems",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "paused_by",
                table: "ai_systems",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "phase_since",
                table: "ai_systems",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateOnly>(
                name: "pilot_ends_override",
                table: "ai_systems",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "resume_restricted",
                table: "ai_systems",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "approvals",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "TEXT", nullable: false),
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    state = table.Column<string>(type: "TEXT", nullable: false),
                    held_response = table.Column<string>(type: "TEXT", nullable: false),
                    held_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    decided_by = table.Column<string>(type: "TEXT", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    reason = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_approvals", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "decisions",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    system_id = table.Column<long>(type: "INTEGER", nullable: false),
                    outcome = table.Column<string>(type: "TEXT", nullable: false),
                    reason = table.Column<string>(type: "TEXT", nullable: false),
                    decided_by = table.Column<string>(type: "TEXT", nullable: false),
                    decided_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    from_phase = table.Column<string>(type: "TEXT", nullable: false),
                    from_stage = table.Column<int>(type: "INTEGER", nullable: false),
                    to_phase = table.Column<string>(type: "TEXT", nullable: false),
                    to_stage = table.Column<int>(type: "INTEGER", nullable: false),
                    evidence_json = table.Column<string>(type: "TEXT", nullable: true),
                    evidence_hash = table.Column<string>(type: "TEXT", nullable: true),
                    @override = table.Column<bool>(name: "override", type: "INTEGER", nullable: false),
                    new_end_date = table.Column<DateOnly>(type: "TEXT", nullable: true)
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
                    id = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    phase = table.Column<string>(type: "TEXT", nullable: false),
                    stage = table.Column<int>(type: "INTEGER", nullable: false),
                    config_version = table.Column<int>(type: "INTEGER", nullable: false),
                    user_id = table.Column<long>(type: "INTEGER", nullable: false),
                    user_email = table.Column<string>(type: "TEXT", nullable: false),
                    key_id = table.Column<string>(type: "TEXT", nullable: false),
                    groups = table.Column<string>(type: "TEXT", nullable: false),
                    endpoint = table.Column<string>(type: "TEXT", nullable: false),
                    mode = table.Column<string>(type: "TEXT", nullable: false),
                    outcome = table.Column<string>(type: "TEXT", nullable: false),
                    refusal_code = table.Column<string>(type: "TEXT", nullable: true),
                    refusal_reason = table.Column<string>(type: "TEXT", nullable: true),
                    detector_hits = table.Column<string>(type: "TEXT", nullable: true),
                    streamed = table.Column<bool>(type: "INTEGER", nullable: false),
                    tokens_in = table.Column<int>(type: "INTEGER", nullable: false),
                    tokens_out = table.Column<int>(type: "INTEGER", nullable: false),
                    cost = table.Column<decimal>(type: "TEXT", precision: 18, scale: 8, nullable: false),
                    first_byte_ms = table.Column<double>(type: "REAL", nullable: true),
                    total_ms = table.Column<double>(type: "REAL", nullable: false),
                    upstream_status = table.Column<int>(type: "INTEGER", nullable: true),
                    request_hash = table.Column<string>(type: "TEXT", nullable: true),
                    response_hash = table.Column<string>(type: "TEXT", nullable: true),
                    request_content = table.Column<string>(type: "TEXT", nullable: true),
                    response_content = table.Column<string>(type: "TEXT", nullable: true),
                    error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_interactions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "training_acknowledgements",
                columns: table => new
                {
                    user_id = table.Column<long>(type: "INTEGER", nullable: false),
                    system_id = table.Column<long>(type: "INTEGER", nullable: false),
                    text_hash = table.Column<string>(type: "TEXT", nullable: false),
                    acknowledged_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
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

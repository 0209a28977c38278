using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ChangeRequests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "change_request",
                table: "eval_runs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "change_requests",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    system = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    requested_by = table.Column<string>(type: "TEXT", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    base_version = table.Column<int>(type: "INTEGER", nullable: false),
                    spec_json = table.Column<string>(type: "TEXT", nullable: false),
                    spec_hash = table.Column<string>(type: "TEXT", nullable: false),
                    diff = table.Column<string>(type: "TEXT", nullable: false),
                    decided_by = table.Column<string>(type: "TEXT", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    decision_reason = table.Column<string>(type: "TEXT", nullable: true),
                    applied_by = table.Column<string>(type: "TEXT", nullable: true),
                    applied_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    applied_version = table.Column<int>(type: "INTEGER", nullable: true),
                    gate = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_change_requests", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_change_requests_system_status",
                table: "change_requests",
                columns: new[] { "system", "status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "change_requests");

            migrationBuilder.DropColumn(
                name: "change_request",
                table: "eval_runs");
        }
    }
}

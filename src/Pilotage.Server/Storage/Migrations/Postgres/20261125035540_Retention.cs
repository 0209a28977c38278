using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Retention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "legal_hold_at",
                table: "ai_systems",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "legal_hold_by",
                table: "ai_systems",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "legal_hold_reason",
                table: "ai_systems",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "legal_hold_at",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "legal_hold_by",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "legal_hold_reason",
                table: "ai_systems");
        }
    }
}

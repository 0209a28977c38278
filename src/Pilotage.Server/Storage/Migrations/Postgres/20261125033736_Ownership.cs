using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Ownership : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "handover_reason",
                table: "ai_systems",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "handover_requested_at",
                table: "ai_systems",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "handover_requested_by",
                table: "ai_systems",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "pending_owner",
                table: "ai_systems",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "handover_reason",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "handover_requested_at",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "handover_requested_by",
                table: "ai_systems");

            migrationBuilder.DropColumn(
                name: "pending_owner",
                table: "ai_systems");
        }
    }
}

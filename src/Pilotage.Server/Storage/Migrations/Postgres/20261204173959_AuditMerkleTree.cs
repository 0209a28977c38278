using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AuditMerkleTree : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "tree_frontier",
                table: "audit_head",
                type: "bytea",
                nullable: false,
                defaultValue: new byte[0]);

            migrationBuilder.AddColumn<long>(
                name: "tree_size",
                table: "audit_head",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "audit_checkpoints",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tree_size = table.Column<long>(type: "bigint", nullable: false),
                    root_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    note = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_checkpoints", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_tree_nodes",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false),
                    hash = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_tree_nodes", x => x.id);
                });

            migrationBuilder.UpdateData(
                table: "audit_head",
                keyColumn: "id",
                keyValue: 1,
                columns: new[] { "tree_frontier", "tree_size" },
                values: new object[] { new byte[0], 0L });

            migrationBuilder.CreateIndex(
                name: "IX_audit_checkpoints_tree_size",
                table: "audit_checkpoints",
                column: "tree_size");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_checkpoints");

            migrationBuilder.DropTable(
                name: "audit_tree_nodes");

            migrationBuilder.DropColumn(
                name: "tree_frontier",
                table: "audit_head");

            migrationBuilder.DropColumn(
                name: "tree_size",
                table: "audit_head");
        }
    }
}

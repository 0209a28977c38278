using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ReviewBacklogAndPartitions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_review_items_system_state_enqueued_at",
                table: "review_items");

            migrationBuilder.CreateTable(
                name: "review_backlog",
                columns: table => new
                {
                    system = table.Column<string>(type: "TEXT", nullable: false),
                    pending = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_review_backlog", x => x.system);
                });

            migrationBuilder.CreateIndex(
                name: "IX_review_items_system_state_interaction_id",
                table: "review_items",
                columns: new[] { "system", "state", "interaction_id" });

            // Triggers (and on PostgreSQL the partitioned interactions table) that the model cannot express.
            RawSchema.ApplySqlite(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER review_backlog_insert; DROP TRIGGER review_backlog_update_from; DROP TRIGGER review_backlog_update_to; DROP TRIGGER review_backlog_delete;");
            migrationBuilder.DropTable(
                name: "review_backlog");

            migrationBuilder.DropIndex(
                name: "IX_review_items_system_state_interaction_id",
                table: "review_items");

            migrationBuilder.CreateIndex(
                name: "IX_review_items_system_state_enqueued_at",
                table: "review_items",
                columns: new[] { "system", "state", "enqueued_at" });
        }
    }
}

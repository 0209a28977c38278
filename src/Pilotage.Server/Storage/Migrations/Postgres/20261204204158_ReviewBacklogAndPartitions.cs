using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
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
                    system = table.Column<string>(type: "text", nullable: false),
                    pending = table.Column<long>(type: "bigint", nullable: false)
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
            RawSchema.ApplyPostgres(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The partitioned interactions table stays partitioned: nothing of the model depends on it.
            migrationBuilder.Sql("DROP TRIGGER review_backlog ON review_items; DROP FUNCTION pilotage_review_backlog();");
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

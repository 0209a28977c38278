using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AttentionAndMembers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "rollup_codes",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false),
                    hour = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    code = table.Column<string>(type: "text", nullable: false),
                    count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollup_codes", x => new { x.system, x.hour, x.kind, x.outcome, x.code });
                });

            // Refusals and failures recorded before this table existed are counted into it once, so "by reason" keeps its history.
            migrationBuilder.Sql(
                "INSERT INTO rollup_codes (system, hour, kind, outcome, code, count) "
                + "SELECT system, CAST(floor(extract(epoch FROM created_at) / 3600) AS bigint), "
                + "CASE WHEN endpoint = 'manual' THEN 'manual' WHEN eval_run IS NOT NULL THEN 'eval' ELSE 'ai' END, "
                + "outcome, COALESCE(NULLIF(refusal_code, ''), 'unspecified'), COUNT(*) "
                + "FROM interactions WHERE outcome IN ('refused', 'failed') GROUP BY 1, 2, 3, 4, 5");

            migrationBuilder.CreateIndex(
                name: "IX_interactions_user_id_id",
                table: "interactions",
                columns: new[] { "user_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "rollup_codes");

            migrationBuilder.DropIndex(
                name: "IX_interactions_user_id_id",
                table: "interactions");
        }
    }
}

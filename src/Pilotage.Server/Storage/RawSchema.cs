using Microsoft.EntityFrameworkCore.Migrations;

namespace Pilotage.Server.Storage;

/// <summary>
/// The part of the schema EF Core's model cannot express, applied by each provider's migration after
/// the tables exist (keep the call when migrations are regenerated): triggers that keep the review
/// backlog, and on PostgreSQL the interactions table partitioned by month.
/// </summary>
public static class RawSchema
{
    /// <summary>SQLite: the backlog triggers.</summary>
    public static void ApplySqlite(MigrationBuilder migration)
    {
        // A pending item counts once for its system; every change of state or system moves the count with it.
        migration.Sql("""
            CREATE TRIGGER review_backlog_insert AFTER INSERT ON review_items WHEN NEW.state = 'pending'
            BEGIN
                INSERT INTO review_backlog (system, pending) VALUES (NEW.system, 1)
                ON CONFLICT (system) DO UPDATE SET pending = pending + 1;
            END;
            """);
        migration.Sql("""
            CREATE TRIGGER review_backlog_update_from AFTER UPDATE OF state, system ON review_items WHEN OLD.state = 'pending'
            BEGIN
                UPDATE review_backlog SET pending = pending - 1 WHERE system = OLD.system;
            END;
            """);
        migration.Sql("""
            CREATE TRIGGER review_backlog_update_to AFTER UPDATE OF state, system ON review_items WHEN NEW.state = 'pending'
            BEGIN
                INSERT INTO review_backlog (system, pending) VALUES (NEW.system, 1)
                ON CONFLICT (system) DO UPDATE SET pending = pending + 1;
            END;
            """);
        migration.Sql("""
            CREATE TRIGGER review_backlog_delete AFTER DELETE ON review_items WHEN OLD.state = 'pending'
            BEGIN
                UPDATE review_backlog SET pending = pending - 1 WHERE system = OLD.system;
            END;
            """);
    }

    /// <summary>PostgreSQL: the backlog trigger, and interactions partitioned by month (Evidence/InteractionPartitions.cs).</summary>
    public static void ApplyPostgres(MigrationBuilder migration)
    {
        migration.Sql("""
            CREATE FUNCTION pilotage_review_backlog() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    IF OLD.state IS NOT DISTINCT FROM NEW.state AND OLD.system = NEW.system THEN RETURN NULL; END IF;
                END IF;
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    IF OLD.state = 'pending' THEN
                        UPDATE review_backlog SET pending = pending - 1 WHERE system = OLD.system;
                    END IF;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    IF NEW.state = 'pending' THEN
                        INSERT INTO review_backlog (system, pending) VALUES (NEW.system, 1)
                        ON CONFLICT (system) DO UPDATE SET pending = review_backlog.pending + 1;
                    END IF;
                END IF;
                RETURN NULL;
            END $$;
            """);
        migration.Sql("""
            CREATE TRIGGER review_backlog AFTER INSERT OR DELETE OR UPDATE OF state, system ON review_items
            FOR EACH ROW EXECUTE FUNCTION pilotage_review_backlog();
            """);

        // The table EF created becomes a table partitioned by month of created_at, with the same columns,
        // indexes and index names. The primary key must hold the partition key: (id, created_at). An id is
        // derived from its time (UUIDv7) or from its row including the timestamp (imports), so the same id
        // always comes with the same created_at and lands in the same partition: ids stay unique.
        // Months get their partitions ahead of time; a row outside them lands in the DEFAULT partition.
        migration.Sql("""
            CREATE TABLE interactions_partitioned (LIKE interactions INCLUDING DEFAULTS) PARTITION BY RANGE (created_at);
            DROP TABLE interactions;
            ALTER TABLE interactions_partitioned RENAME TO interactions;
            ALTER TABLE interactions ADD CONSTRAINT "PK_interactions" PRIMARY KEY (id, created_at);
            CREATE INDEX "IX_interactions_system_created_at" ON interactions (system, created_at);
            CREATE INDEX "IX_interactions_user_id_id" ON interactions (user_id, id);
            CREATE TABLE interactions_default PARTITION OF interactions DEFAULT;
            """);
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

namespace Pilotage.Server.Storage;

/// <summary>
/// The part of the schema EF Core's model cannot express, applied by each provider's migration after
/// the tables exist (keep the call when migrations are regenerated): triggers that keep the review
/// backlog, and on PostgreSQL the interactions table partitioned by month and the allowances replicas share.
/// </summary>
public static class RawSchema
{
    /// <summary>SQLite: the backlog triggers (changes of enqueued items; enqueuing is counted per batch).</summary>
    public static void ApplySqlite(MigrationBuilder migration)
    {
        // A pending item counts once for its system. Enqueued items are counted per batch by the code that
        // enqueues them (Evidence/Rollups.cs, BatchFollowUps), not by a trigger per row: the evidence writer
        // enqueues most drafts and paid for a trigger on every one. Every later change of state or system, and a
        // delete, moves the count here.
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

    /// <summary>PostgreSQL: the backlog trigger (changes of enqueued items; enqueuing is counted per batch), and interactions partitioned by month (Evidence/InteractionPartitions.cs).</summary>
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
                IF TG_OP = 'UPDATE' THEN
                    IF NEW.state = 'pending' THEN
                        INSERT INTO review_backlog (system, pending) VALUES (NEW.system, 1)
                        ON CONFLICT (system) DO UPDATE SET pending = review_backlog.pending + 1;
                    END IF;
                END IF;
                RETURN NULL;
            END $$;
            """);
        migration.Sql("""
            CREATE TRIGGER review_backlog AFTER DELETE OR UPDATE OF state, system ON review_items
            FOR EACH ROW EXECUTE FUNCTION pilotage_review_backlog();
            """);

        // The table EF created becomes a table partitioned by month of created_at, with the same columns,
        // indexes and index names. The primary key must hold the partition key: (id, created_at). An id is
        // derived from its time (UUIDv7) or from its row including the timestamp (imports), so the same id
        // always comes with the same created_at and lands in the same partition: ids stay unique.
        // Months get their partitions ahead of time; a row outside them lands in the DEFAULT partition.
        // The (user_id, id) index serves a person's own page, which never lists interactions of no Pilotage user
        // (user_id 0): leaving them out spares an index entry at a random place for each of them (imported rows of
        // people who are not users, keys of no person), about a fifth of the server's work to store a row of a bulk import.
        migration.Sql("""
            CREATE TABLE interactions_partitioned (LIKE interactions INCLUDING DEFAULTS) PARTITION BY RANGE (created_at);
            DROP TABLE interactions;
            ALTER TABLE interactions_partitioned RENAME TO interactions;
            ALTER TABLE interactions ADD CONSTRAINT "PK_interactions" PRIMARY KEY (id, created_at);
            CREATE INDEX "IX_interactions_system_created_at" ON interactions (system, created_at);
            CREATE INDEX "IX_interactions_user_id_id" ON interactions (user_id, id) WHERE user_id <> 0;
            CREATE TABLE interactions_default PARTITION OF interactions DEFAULT;
            """);

        ApplyAllowances(migration);
    }

    /// <summary>
    /// Limits shared by replicas (Gateway/Allowances): per limit and window, how much has been handed out
    /// (<c>used</c>: spent, plus slices still held), and per replica the part of it not yet reported spent.
    /// One call of <c>pilotage_allowance</c> reports, returns and leases in one atomic statement; the
    /// allowance row is locked first, so concurrent calls for one limit queue instead of deadlocking.
    /// </summary>
    private static void ApplyAllowances(MigrationBuilder migration)
    {
        migration.Sql("""
            CREATE TABLE allowances (
                limit_key text NOT NULL,
                window_start bigint NOT NULL,
                used bigint NOT NULL DEFAULT 0,
                PRIMARY KEY (limit_key, window_start));
            CREATE TABLE allowance_leases (
                limit_key text NOT NULL,
                window_start bigint NOT NULL,
                replica uuid NOT NULL,
                outstanding bigint NOT NULL,
                expires_at timestamptz NOT NULL,
                PRIMARY KEY (limit_key, window_start, replica));
            """);
        // A slice is a quarter of what remains shared among the replicas holding one (this one included), at
        // least 1: slices shrink as the allowance runs out. A lease that expired (its replica stopped renewing
        // it) gives back what its replica had not reported spent. A report past what the lease still holds
        // (money spent beyond a slice, or a lease reclaimed while its replica was cut off) counts in full.
        migration.Sql("""
            CREATE FUNCTION pilotage_allowance(p_key text, p_window bigint, p_replica uuid, p_limit bigint, p_lease boolean,
                p_consumed bigint, p_returned bigint, p_overrun bigint, p_ttl_ms integer)
            RETURNS TABLE (granted bigint, used bigint, holders integer) LANGUAGE plpgsql AS $$
            DECLARE
                v_used bigint; v_reclaimed bigint; v_mine bigint; v_returned bigint; v_consumed bigint; v_others integer; v_grant bigint := 0;
            BEGIN
                INSERT INTO allowances AS a (limit_key, window_start) VALUES (p_key, p_window) ON CONFLICT DO NOTHING;
                SELECT a.used INTO v_used FROM allowances a WHERE a.limit_key = p_key AND a.window_start = p_window FOR UPDATE;
                WITH gone AS (
                    DELETE FROM allowance_leases l
                    WHERE l.limit_key = p_key AND l.window_start = p_window AND l.replica <> p_replica AND l.expires_at < clock_timestamp()
                    RETURNING l.outstanding)
                SELECT coalesce(sum(gone.outstanding), 0) INTO v_reclaimed FROM gone;
                SELECT l.outstanding INTO v_mine FROM allowance_leases l WHERE l.limit_key = p_key AND l.window_start = p_window AND l.replica = p_replica;
                v_mine := coalesce(v_mine, 0);
                v_returned := least(p_returned, v_mine);
                v_consumed := least(p_consumed, v_mine - v_returned);
                v_used := v_used - v_reclaimed - v_returned + p_overrun + (p_consumed - v_consumed);
                v_mine := v_mine - v_returned - v_consumed;
                SELECT count(*) INTO v_others FROM allowance_leases l
                WHERE l.limit_key = p_key AND l.window_start = p_window AND l.replica <> p_replica AND l.outstanding > 0;
                IF p_lease AND v_used < p_limit THEN
                    v_grant := least(p_limit - v_used, greatest(1, (p_limit - v_used) / (4 * (v_others + 1))));
                END IF;
                v_used := v_used + v_grant;
                v_mine := v_mine + v_grant;
                UPDATE allowances a SET used = v_used WHERE a.limit_key = p_key AND a.window_start = p_window;
                IF v_mine > 0 THEN
                    INSERT INTO allowance_leases AS l (limit_key, window_start, replica, outstanding, expires_at)
                    VALUES (p_key, p_window, p_replica, v_mine, clock_timestamp() + p_ttl_ms * interval '1 millisecond')
                    ON CONFLICT (limit_key, window_start, replica) DO UPDATE SET outstanding = excluded.outstanding, expires_at = excluded.expires_at;
                ELSE
                    DELETE FROM allowance_leases l WHERE l.limit_key = p_key AND l.window_start = p_window AND l.replica = p_replica;
                END IF;
                RETURN QUERY SELECT v_grant, v_used, v_others;
            END $$;
            """);
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pilotage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "active_users",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    day = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_active_users", x => new { x.system, x.day, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "ai_systems",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    slug = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    title = table.Column<string>(type: "text", nullable: false),
                    owner = table.Column<string>(type: "text", nullable: false),
                    risk = table.Column<string>(type: "text", nullable: false),
                    purpose = table.Column<string>(type: "text", nullable: false),
                    phase = table.Column<string>(type: "text", nullable: false),
                    stage = table.Column<int>(type: "integer", nullable: false),
                    last_decision = table.Column<string>(type: "text", nullable: true),
                    suspended_phase = table.Column<string>(type: "text", nullable: true),
                    suspended_stage = table.Column<int>(type: "integer", nullable: false),
                    resume_restricted = table.Column<bool>(type: "boolean", nullable: false),
                    spec_json = table.Column<string>(type: "text", nullable: false),
                    spec_hash = table.Column<string>(type: "text", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    phase_since = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    paused_by = table.Column<string>(type: "text", nullable: true),
                    paused_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    pause_reason = table.Column<string>(type: "text", nullable: true),
                    pilot_ends_override = table.Column<DateOnly>(type: "date", nullable: true),
                    pending_owner = table.Column<string>(type: "text", nullable: true),
                    handover_requested_by = table.Column<string>(type: "text", nullable: true),
                    handover_requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    handover_reason = table.Column<string>(type: "text", nullable: true),
                    legal_hold_by = table.Column<string>(type: "text", nullable: true),
                    legal_hold_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    legal_hold_reason = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ai_systems", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "approvals",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    state = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    held_response = table.Column<string>(type: "text", nullable: false),
                    held_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    decided_by = table.Column<string>(type: "text", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    reason = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_approvals", x => x.interaction_id);
                });

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
                name: "audit_entries",
                columns: table => new
                {
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor = table.Column<string>(type: "text", nullable: false),
                    action = table.Column<string>(type: "text", nullable: false),
                    subject = table.Column<string>(type: "text", nullable: false),
                    before = table.Column<string>(type: "text", nullable: true),
                    after = table.Column<string>(type: "text", nullable: true),
                    previous_hash = table.Column<string>(type: "text", nullable: false),
                    hash = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_entries", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "audit_head",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    hash = table.Column<string>(type: "text", nullable: false),
                    tree_size = table.Column<long>(type: "bigint", nullable: false),
                    tree_frontier = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_head", x => x.id);
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

            migrationBuilder.CreateTable(
                name: "change_requests",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    system = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    requested_by = table.Column<string>(type: "text", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    base_version = table.Column<int>(type: "integer", nullable: false),
                    spec_json = table.Column<string>(type: "text", nullable: false),
                    spec_hash = table.Column<string>(type: "text", nullable: false),
                    diff = table.Column<string>(type: "text", nullable: false),
                    decided_by = table.Column<string>(type: "text", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    decision_reason = table.Column<string>(type: "text", nullable: true),
                    applied_by = table.Column<string>(type: "text", nullable: true),
                    applied_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    applied_version = table.Column<int>(type: "integer", nullable: true),
                    gate = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_change_requests", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "dashboard_sessions",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    key_id = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    ticket = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dashboard_sessions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "text", nullable: true),
                    xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_protection_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "eval_runs",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    system = table.Column<string>(type: "text", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    test_set = table.Column<string>(type: "text", nullable: false),
                    test_set_hash = table.Column<string>(type: "text", nullable: false),
                    started_by = table.Column<string>(type: "text", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    status = table.Column<string>(type: "text", nullable: false),
                    cases = table.Column<int>(type: "integer", nullable: false),
                    change_request = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_eval_runs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "feedback",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false),
                    rating = table.Column<int>(type: "integer", nullable: false),
                    comment = table.Column<string>(type: "text", nullable: true),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_feedback", x => new { x.interaction_id, x.user_id });
                });

            migrationBuilder.CreateTable(
                name: "groups",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    description = table.Column<string>(type: "text", nullable: true),
                    display_name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    external_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_groups", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "incidents",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    system = table.Column<string>(type: "text", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    severity = table.Column<string>(type: "text", nullable: false),
                    title = table.Column<string>(type: "text", nullable: false),
                    description = table.Column<string>(type: "text", nullable: true),
                    status = table.Column<string>(type: "text", nullable: false),
                    assigned_to = table.Column<string>(type: "text", nullable: true),
                    reported_by = table.Column<string>(type: "text", nullable: false),
                    reported_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    review_note = table.Column<string>(type: "text", nullable: true),
                    interactions = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_incidents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "interactions",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false, collation: "C"),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    phase = table.Column<string>(type: "text", nullable: false),
                    stage = table.Column<int>(type: "integer", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    user_email = table.Column<string>(type: "text", nullable: false),
                    key_id = table.Column<string>(type: "text", nullable: false),
                    groups = table.Column<string>(type: "text", nullable: false),
                    endpoint = table.Column<string>(type: "text", nullable: false),
                    mode = table.Column<string>(type: "text", nullable: false),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    refusal_code = table.Column<string>(type: "text", nullable: true),
                    refusal_reason = table.Column<string>(type: "text", nullable: true),
                    detector_hits = table.Column<string>(type: "text", nullable: true),
                    streamed = table.Column<bool>(type: "boolean", nullable: false),
                    tokens_in = table.Column<int>(type: "integer", nullable: false),
                    tokens_out = table.Column<int>(type: "integer", nullable: false),
                    cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: false),
                    first_byte_ms = table.Column<double>(type: "double precision", nullable: true),
                    total_ms = table.Column<double>(type: "double precision", nullable: false),
                    upstream_status = table.Column<int>(type: "integer", nullable: true),
                    request_hash = table.Column<string>(type: "text", nullable: true),
                    response_hash = table.Column<string>(type: "text", nullable: true),
                    request_content = table.Column<string>(type: "text", nullable: true),
                    response_content = table.Column<string>(type: "text", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true),
                    category = table.Column<string>(type: "text", nullable: true),
                    eval_run = table.Column<long>(type: "bigint", nullable: true),
                    eval_case = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_interactions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "readiness_answers",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false),
                    question_id = table.Column<string>(type: "text", nullable: false),
                    answer = table.Column<string>(type: "text", nullable: false),
                    answered_by = table.Column<string>(type: "text", nullable: false),
                    answered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_readiness_answers", x => new { x.system, x.question_id });
                });

            migrationBuilder.CreateTable(
                name: "review_backlog",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    pending = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_review_backlog", x => x.system);
                });

            migrationBuilder.CreateTable(
                name: "review_items",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    kind = table.Column<string>(type: "text", nullable: false),
                    state = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    enqueued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    opened_by = table.Column<string>(type: "text", nullable: true),
                    done_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_review_items", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "reviews",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    final_text = table.Column<string>(type: "text", nullable: true),
                    reason = table.Column<string>(type: "text", nullable: true),
                    tags = table.Column<string>(type: "text", nullable: true),
                    escalated_to = table.Column<string>(type: "text", nullable: true),
                    reviewer = table.Column<string>(type: "text", nullable: false),
                    seconds = table.Column<double>(type: "double precision", nullable: false),
                    rework = table.Column<double>(type: "double precision", nullable: true),
                    rework_seconds = table.Column<double>(type: "double precision", nullable: false),
                    reviewed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    source = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_reviews", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "rollup_codes",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    hour = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    outcome = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    code = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollup_codes", x => new { x.system, x.hour, x.kind, x.outcome, x.code });
                });

            migrationBuilder.CreateTable(
                name: "rollup_latency",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    phase = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    stage = table.Column<int>(type: "integer", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    hour = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    bucket = table.Column<int>(type: "integer", nullable: false),
                    count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollup_latency", x => new { x.system, x.phase, x.stage, x.config_version, x.hour, x.kind, x.bucket });
                });

            migrationBuilder.CreateTable(
                name: "rollups",
                columns: table => new
                {
                    system = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    phase = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    stage = table.Column<int>(type: "integer", nullable: false),
                    config_version = table.Column<int>(type: "integer", nullable: false),
                    hour = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    requests = table.Column<long>(type: "bigint", nullable: false),
                    served = table.Column<long>(type: "bigint", nullable: false),
                    refused = table.Column<long>(type: "bigint", nullable: false),
                    failed = table.Column<long>(type: "bigint", nullable: false),
                    held = table.Column<long>(type: "bigint", nullable: false),
                    shadowed = table.Column<long>(type: "bigint", nullable: false),
                    blocked = table.Column<long>(type: "bigint", nullable: false),
                    redacted = table.Column<long>(type: "bigint", nullable: false),
                    tokens_in = table.Column<long>(type: "bigint", nullable: false),
                    tokens_out = table.Column<long>(type: "bigint", nullable: false),
                    cost_nanos = table.Column<long>(type: "bigint", nullable: false),
                    latency_ms_sum = table.Column<double>(type: "double precision", nullable: false),
                    reviewed = table.Column<long>(type: "bigint", nullable: false),
                    accepted = table.Column<long>(type: "bigint", nullable: false),
                    edited = table.Column<long>(type: "bigint", nullable: false),
                    rejected = table.Column<long>(type: "bigint", nullable: false),
                    escalated = table.Column<long>(type: "bigint", nullable: false),
                    out_of_scope = table.Column<long>(type: "bigint", nullable: false),
                    review_seconds = table.Column<double>(type: "double precision", nullable: false),
                    rework_sum = table.Column<double>(type: "double precision", nullable: false),
                    rework_seconds = table.Column<double>(type: "double precision", nullable: false),
                    feedback_count = table.Column<long>(type: "bigint", nullable: false),
                    feedback_sum = table.Column<long>(type: "bigint", nullable: false),
                    task_count = table.Column<long>(type: "bigint", nullable: false),
                    task_minutes = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rollups", x => new { x.system, x.phase, x.stage, x.config_version, x.hour, x.kind });
                });

            migrationBuilder.CreateTable(
                name: "task_times",
                columns: table => new
                {
                    interaction_id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    system = table.Column<string>(type: "text", nullable: false),
                    minutes = table.Column<double>(type: "double precision", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_task_times", x => x.interaction_id);
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    email = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    display_name = table.Column<string>(type: "text", nullable: true),
                    role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    assigned_role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    external_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    active = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_users", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    @event = table.Column<string>(name: "event", type: "text", nullable: false),
                    url = table.Column<string>(type: "text", nullable: false),
                    payload = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    last_error = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_deliveries", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "config_versions",
                columns: table => new
                {
                    system_id = table.Column<long>(type: "bigint", nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    config_json = table.Column<string>(type: "text", nullable: false),
                    hash = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_by = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_config_versions", x => new { x.system_id, x.version });
                    table.ForeignKey(
                        name: "FK_config_versions_ai_systems_system_id",
                        column: x => x.system_id,
                        principalTable: "ai_systems",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "decisions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    system_id = table.Column<long>(type: "bigint", nullable: false),
                    outcome = table.Column<string>(type: "text", nullable: false),
                    reason = table.Column<string>(type: "text", nullable: false),
                    decided_by = table.Column<string>(type: "text", nullable: false),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    from_phase = table.Column<string>(type: "text", nullable: false),
                    from_stage = table.Column<int>(type: "integer", nullable: false),
                    to_phase = table.Column<string>(type: "text", nullable: false),
                    to_stage = table.Column<int>(type: "integer", nullable: false),
                    evidence_json = table.Column<string>(type: "text", nullable: true),
                    evidence_hash = table.Column<string>(type: "text", nullable: true),
                    @override = table.Column<bool>(name: "override", type: "boolean", nullable: false),
                    new_end_date = table.Column<DateOnly>(type: "date", nullable: true)
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
                name: "eval_results",
                columns: table => new
                {
                    run_id = table.Column<long>(type: "bigint", nullable: false),
                    case_id = table.Column<string>(type: "text", nullable: false),
                    category = table.Column<string>(type: "text", nullable: false),
                    verdict = table.Column<string>(type: "text", nullable: false),
                    reason = table.Column<string>(type: "text", nullable: true),
                    interaction_id = table.Column<string>(type: "text", nullable: true),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_eval_results", x => new { x.run_id, x.case_id });
                    table.ForeignKey(
                        name: "FK_eval_results_eval_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "eval_runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "text", nullable: true),
                    secret_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_api_keys", x => x.id);
                    table.ForeignKey(
                        name: "FK_api_keys_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "group_memberships",
                columns: table => new
                {
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    group_id = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_group_memberships", x => new { x.user_id, x.group_id });
                    table.ForeignKey(
                        name: "FK_group_memberships_groups_group_id",
                        column: x => x.group_id,
                        principalTable: "groups",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_group_memberships_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_acknowledgements",
                columns: table => new
                {
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    system_id = table.Column<long>(type: "bigint", nullable: false),
                    text_hash = table.Column<string>(type: "text", nullable: false),
                    acknowledged_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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

            migrationBuilder.InsertData(
                table: "audit_head",
                columns: new[] { "id", "hash", "sequence", "tree_frontier", "tree_size" },
                values: new object[] { 1, "0000000000000000000000000000000000000000000000000000000000000000", 0L, new byte[0], 0L });

            migrationBuilder.CreateIndex(
                name: "IX_ai_systems_slug",
                table: "ai_systems",
                column: "slug",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_user_id",
                table: "api_keys",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "IX_approvals_system_state",
                table: "approvals",
                columns: new[] { "system", "state" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_checkpoints_tree_size",
                table: "audit_checkpoints",
                column: "tree_size");

            migrationBuilder.CreateIndex(
                name: "IX_change_requests_system_status",
                table: "change_requests",
                columns: new[] { "system", "status" });

            migrationBuilder.CreateIndex(
                name: "IX_dashboard_sessions_expires_at",
                table: "dashboard_sessions",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "IX_dashboard_sessions_key_id",
                table: "dashboard_sessions",
                column: "key_id");

            migrationBuilder.CreateIndex(
                name: "IX_decisions_system_id",
                table: "decisions",
                column: "system_id");

            migrationBuilder.CreateIndex(
                name: "IX_eval_runs_system_config_version",
                table: "eval_runs",
                columns: new[] { "system", "config_version" });

            migrationBuilder.CreateIndex(
                name: "IX_group_memberships_group_id",
                table: "group_memberships",
                column: "group_id");

            migrationBuilder.CreateIndex(
                name: "IX_groups_name",
                table: "groups",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_incidents_system_status",
                table: "incidents",
                columns: new[] { "system", "status" });

            migrationBuilder.CreateIndex(
                name: "IX_interactions_system_created_at",
                table: "interactions",
                columns: new[] { "system", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_interactions_user_id_id",
                table: "interactions",
                columns: new[] { "user_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_review_items_system_state_interaction_id",
                table: "review_items",
                columns: new[] { "system", "state", "interaction_id" });

            migrationBuilder.CreateIndex(
                name: "IX_reviews_system",
                table: "reviews",
                column: "system");

            migrationBuilder.CreateIndex(
                name: "IX_training_acknowledgements_system_id",
                table: "training_acknowledgements",
                column: "system_id");

            migrationBuilder.CreateIndex(
                name: "IX_users_email",
                table: "users",
                column: "email",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_status_next_attempt_at",
                table: "webhook_deliveries",
                columns: new[] { "status", "next_attempt_at" });

            // What the model cannot express: the review backlog's triggers (and on PostgreSQL the interactions
            // table partitioned by month). Keep this call when the migration is regenerated (docs/architecture.md).
            RawSchema.ApplyPostgres(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "active_users");

            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropTable(
                name: "approvals");

            migrationBuilder.DropTable(
                name: "audit_checkpoints");

            migrationBuilder.DropTable(
                name: "audit_entries");

            migrationBuilder.DropTable(
                name: "audit_head");

            migrationBuilder.DropTable(
                name: "audit_tree_nodes");

            migrationBuilder.DropTable(
                name: "change_requests");

            migrationBuilder.DropTable(
                name: "config_versions");

            migrationBuilder.DropTable(
                name: "dashboard_sessions");

            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropTable(
                name: "decisions");

            migrationBuilder.DropTable(
                name: "eval_results");

            migrationBuilder.DropTable(
                name: "feedback");

            migrationBuilder.DropTable(
                name: "group_memberships");

            migrationBuilder.DropTable(
                name: "incidents");

            migrationBuilder.DropTable(
                name: "interactions");

            migrationBuilder.DropTable(
                name: "readiness_answers");

            migrationBuilder.DropTable(
                name: "review_backlog");

            migrationBuilder.DropTable(
                name: "review_items");

            migrationBuilder.DropTable(
                name: "reviews");

            migrationBuilder.DropTable(
                name: "rollup_codes");

            migrationBuilder.DropTable(
                name: "rollup_latency");

            migrationBuilder.DropTable(
                name: "rollups");

            migrationBuilder.DropTable(
                name: "task_times");

            migrationBuilder.DropTable(
                name: "training_acknowledgements");

            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropTable(
                name: "eval_runs");

            migrationBuilder.DropTable(
                name: "groups");

            migrationBuilder.DropTable(
                name: "ai_systems");

            migrationBuilder.DropTable(
                name: "users");
        }
    }
}

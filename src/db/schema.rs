//! Table definitions shared by both backends (kept in step with `migrations/`).
//!
//! Timestamps are `Timestamp` (UTC, no zone) because that is the type PostgreSQL and SQLite share
//! through diesel's multi-backend.

diesel::table! {
    /// 单位: a department, district government or other body that receives assignments.
    units (id) {
        id -> BigInt,
        name -> Text,
        short_name -> Nullable<Text>,
        kind -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Other names of a unit (市城管局 for 市城市管理局).
    unit_aliases (id) {
        id -> BigInt,
        unit_id -> BigInt,
        alias -> Text,
    }
}

diesel::table! {
    /// Accounts of people and of department systems (role `service`).
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        unit_id -> Nullable<BigInt>,
        role -> Text,
        scopes -> Text,
        active -> Bool,
        password_hash -> Text,
        password_changed_at -> Timestamp,
        failed_logins -> Integer,
        last_failed_login_at -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Sign-ins: a password login with its refresh-token family, or one client-credentials
    /// grant. Access tokens name theirs (`sid`); a revoked one stops them at once.
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Refresh tokens, stored as SHA-256 hashes, grouped in rotation families.
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Failed-login counters per account name and per client address.
    login_throttles (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Append-only record of every write.
    audit_log (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        actor_unit_id -> Nullable<BigInt>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<BigInt>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Named sets of units used in plans (市级有关部门, 区县政府, …).
    unit_groups (id) {
        id -> BigInt,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Other names of a group (各区县政府 for 区县政府).
    unit_group_aliases (id) {
        id -> BigInt,
        group_id -> BigInt,
        alias -> Text,
    }
}

diesel::table! {
    /// Members of a group.
    unit_group_members (group_id, unit_id) {
        group_id -> BigInt,
        unit_id -> BigInt,
    }
}

diesel::table! {
    /// 年度计划: a year's plan of tasks.
    plans (id) {
        id -> BigInt,
        title -> Text,
        year -> Integer,
        issuing_unit_id -> Nullable<BigInt>,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The task tree of a plan: sections, tasks and measures.
    plan_items (id) {
        id -> BigInt,
        plan_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        level -> Text,
        code -> Text,
        number -> Text,
        title -> Text,
        position -> Integer,
        lead_text -> Nullable<Text>,
        participant_text -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// 任务来源: documents measures derive from, by 文号.
    source_documents (id) {
        id -> BigInt,
        doc_number -> Text,
        title -> Nullable<Text>,
        issuer -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Which documents a measure cites.
    measure_sources (measure_id, source_id) {
        measure_id -> BigInt,
        source_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    /// A measure given to a unit as lead or participant.
    assignments (id) {
        id -> BigInt,
        plan_id -> BigInt,
        measure_id -> BigInt,
        unit_id -> BigInt,
        role -> Text,
        via_group_id -> Nullable<BigInt>,
        due_date -> Date,
        cycle -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        received_at -> Nullable<Timestamp>,
        received_by -> Nullable<BigInt>,
        held_since -> Nullable<Timestamp>,
        due_working_days -> Nullable<Integer>,
        due_counted_from -> Nullable<Text>,
    }
}

diesel::table! {
    /// 完成情况: a unit's report on an assignment for one period.
    reports (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        unit_id -> BigInt,
        period -> Text,
        status -> Text,
        narrative -> Text,
        problems -> Text,
        next_steps -> Text,
        workflow -> Text,
        return_reason -> Nullable<Text>,
        version -> Integer,
        created_by -> Nullable<BigInt>,
        updated_by -> Nullable<BigInt>,
        submitted_at -> Nullable<Timestamp>,
        reviewed_at -> Nullable<Timestamp>,
        reviewed_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_revision -> Nullable<Integer>,
        progress -> Nullable<Integer>,
    }
}

diesel::table! {
    /// Every submitted version of a report, immutable.
    report_revisions (id) {
        id -> BigInt,
        report_id -> BigInt,
        revision -> Integer,
        status -> Text,
        narrative -> Text,
        problems -> Text,
        next_steps -> Text,
        submitted_by -> Nullable<BigInt>,
        submitted_at -> Timestamp,
        progress -> Nullable<Integer>,
    }
}

diesel::table! {
    /// `Idempotency-Key`s whose first request is still running.
    idempotency_locks (user_id, key) {
        user_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        owner -> Text,
        locked_until -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Answers remembered per caller and `Idempotency-Key`.
    idempotency_keys (user_id, key) {
        user_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// 提醒 / 催办 / 督办: the office chasing a unit about assignments.
    urges (id) {
        id -> BigInt,
        unit_id -> BigInt,
        severity -> Text,
        message -> Text,
        reply_by -> Nullable<Date>,
        automatic -> Bool,
        issued_by -> Nullable<BigInt>,
        issued_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<BigInt>,
        reply -> Nullable<Text>,
        replied_at -> Nullable<Timestamp>,
        replied_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// The assignments an urge is about.
    urge_assignments (urge_id, assignment_id) {
        urge_id -> BigInt,
        assignment_id -> BigInt,
    }
}

diesel::table! {
    /// Automatic reminders already sent, one per assignment, period and kind.
    reminder_log (assignment_id, period, kind) {
        assignment_id -> BigInt,
        period -> Text,
        kind -> Text,
        urge_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(unit_aliases -> units (unit_id));
diesel::joinable!(users -> units (unit_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(unit_group_aliases -> unit_groups (group_id));
diesel::joinable!(unit_group_members -> unit_groups (group_id));
diesel::joinable!(unit_group_members -> units (unit_id));
diesel::joinable!(plan_items -> plans (plan_id));
diesel::joinable!(measure_sources -> plan_items (measure_id));
diesel::joinable!(measure_sources -> source_documents (source_id));
diesel::joinable!(assignments -> plan_items (measure_id));
diesel::joinable!(assignments -> units (unit_id));
diesel::joinable!(assignments -> plans (plan_id));
diesel::joinable!(attachments -> reports (report_id));
diesel::table! {
    /// The standing of an assignment, one row per version (valid_to NULL: current).
    assignment_standings (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        plan_id -> BigInt,
        unit_id -> BigInt,
        valid_from -> Timestamp,
        valid_to -> Nullable<Timestamp>,
        due_date -> Date,
        deadline -> Nullable<Date>,
        done -> Nullable<Text>,
        done_at -> Nullable<Timestamp>,
        last_sent_period -> Nullable<Text>,
        sent_report_id -> Nullable<BigInt>,
        sent_status -> Nullable<Text>,
        sent_workflow -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        returned -> Bool,
        urges -> Integer,
        phase -> Text,
        done_late_days -> Nullable<Integer>,
        received -> Bool,
        measure_id -> BigInt,
        lead -> Bool,
        sent_progress -> Nullable<Integer>,
        behind_since -> Nullable<Date>,
    }
}

diesel::table! {
    /// 延期申请: a unit asking for a later due date, and the office's decision.
    extension_requests (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        plan_id -> BigInt,
        unit_id -> BigInt,
        state -> Text,
        due_date -> Date,
        requested_due_date -> Date,
        reason -> Text,
        progress -> Text,
        requested_by -> Nullable<BigInt>,
        requested_at -> Timestamp,
        granted_due_date -> Nullable<Date>,
        decision_note -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// 异议 / 调整申请: a unit disputes an assignment (not its responsibility, or the wrong role);
    /// the office withdraws, moves, re-roles or rejects. Keeps what the assignment was.
    disputes (id) {
        id -> BigInt,
        assignment_id -> Nullable<BigInt>,
        plan_id -> BigInt,
        measure_id -> BigInt,
        unit_id -> BigInt,
        role -> Text,
        kind -> Text,
        reason -> Text,
        state -> Text,
        outcome -> Nullable<Text>,
        moved_to_unit_id -> Nullable<BigInt>,
        new_role -> Nullable<Text>,
        resolution_note -> Nullable<Text>,
        raised_by -> Nullable<BigInt>,
        raised_at -> Timestamp,
        resolved_by -> Nullable<BigInt>,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(assignment_standings -> assignments (assignment_id));
diesel::joinable!(reports -> assignments (assignment_id));
diesel::joinable!(report_revisions -> reports (report_id));
diesel::joinable!(urge_assignments -> urges (urge_id));
diesel::joinable!(urge_assignments -> assignments (assignment_id));
diesel::joinable!(extension_requests -> assignments (assignment_id));

diesel::table! {
    /// 工作日历: the public holidays and make-up working days (调休) the office keeps.
    calendar_days (day) {
        day -> Date,
        kind -> Text,
        name -> Text,
        notice -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// The running shift of the working-day count per day, derived from `calendar_days`.
    calendar_shifts (day) {
        day -> Date,
        shift -> Integer,
    }
}

diesel::table! {
    /// Whether the calendar was seeded, and the shift after its last day.
    calendar_state (id) {
        id -> Integer,
        seeded -> Bool,
        shift_after -> Integer,
    }
}

diesel::table! {
    /// 佐证材料: evidence files on reports (the bytes are in the file storage).
    attachments (id) {
        id -> BigInt,
        report_id -> BigInt,
        unit_id -> BigInt,
        file_name -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        uploaded_by -> Nullable<BigInt>,
        uploaded_at -> Timestamp,
        first_revision -> Nullable<Integer>,
        last_revision -> Nullable<Integer>,
        removed_at -> Nullable<Timestamp>,
        removed_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Webhook subscriptions of a unit (`covers` 'unit') or of the office ('all').
    webhooks (id) {
        id -> BigInt,
        unit_id -> Nullable<BigInt>,
        covers -> Text,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        secret -> Text,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_success_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The outbox: events written with the change they describe.
    webhook_events (id) {
        id -> BigInt,
        event_type -> Text,
        unit_id -> Nullable<BigInt>,
        occurred_at -> Timestamp,
        data -> Text,
    }
}

diesel::table! {
    /// One delivery of an event to a subscription.
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_id -> BigInt,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        last_duration_ms -> Nullable<Integer>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        redelivery_of -> Nullable<BigInt>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    unit_aliases,
    users,
    sessions,
    refresh_tokens,
    login_throttles,
    audit_log,
    unit_groups,
    unit_group_aliases,
    unit_group_members,
    plans,
    plan_items,
    source_documents,
    measure_sources,
    assignments,
    reports,
    report_revisions,
    idempotency_keys,
    idempotency_locks,
    urges,
    urge_assignments,
    reminder_log,
    assignment_standings,
    extension_requests,
    disputes,
    attachments,
    webhooks,
    webhook_events,
    webhook_deliveries,
);

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    assignments::measure_id,
    assignments::unit_id,
    assignments::plan_id,
    assignments::role,
    reports::status,
    reports::workflow,
);

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    urge_assignments::assignment_id,
    urges::unit_id,
);

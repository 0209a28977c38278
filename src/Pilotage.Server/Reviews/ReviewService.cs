using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Evidence;
using Pilotage.Server.Gateway;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Reviews;

/// <summary>Who posts evidence, whether through the control API or with a gateway key.</summary>
public sealed record EvidencePoster(long UserId, string Email, Role Role, IReadOnlyCollection<string> Groups)
{
    public static EvidencePoster From(Actor actor) => new(actor.UserId, actor.Email, actor.Role, actor.Groups);

    public static EvidencePoster From(Principal user) => new(user.Id, user.Email, user.Role, user.Groups);

    public Person Person => new(Role, Email, Groups);
}

/// <summary>
/// Reviews, feedback, task times and manual work: the evidence people add to interactions, for both
/// the gateway's app endpoints and the control API.
/// </summary>
/// <remarks>
/// These are evidence, not control-plane commands: each is one short transaction of its own that
/// writes the row and its roll-up change together (a roll-up never disagrees with the rows it counts),
/// without the control plane's global lock. Two writes about the same interaction are serialised by
/// the transaction itself: SQLite's <c>BEGIN IMMEDIATE</c> takes the write lock before the old row is
/// read, PostgreSQL locks the interaction row with <c>SELECT … FOR UPDATE</c>. The one exception is a
/// review that decides a held answer: releasing or discarding it is a state change the audit chain
/// records, so that review runs as a control-plane command (still one transaction).
/// </remarks>
public sealed class ReviewService(PilotageStore store, PolicyCache policy, ControlPlane control, EvidenceWriter evidence, TimeProvider time)
{
    public const string SourceApp = "app";
    public const string SourceReviewer = "reviewer";

    /// <summary>Told after a review committed (interaction id, status): pause rules; must only enqueue.</summary>
    public Action<string, string>? ReviewCommitted { get; set; }

    private ReviewReceipt Committed(ReviewReceipt receipt) { ReviewCommitted?.Invoke(receipt.Review.InteractionId, receipt.Status); return receipt; }

    private delegate void AuditSink(string action, string subject, string? before, string? after);

    // ---- reviews -------------------------------------------------------------------------------

    /// <summary>Records (or replaces) the review of an interaction and adjusts the roll-ups by the difference.</summary>
    public async Task<ReviewReceipt> ReviewAsync(string id, ReviewRequest? request, EvidencePoster who, string source, CancellationToken ct)
    {
        var input = ReviewRules.Validate(request);
        var interaction = await FindForPostingAsync(id, who, "review", ct);
        if (interaction.Outcome == InteractionOutcomes.Held)
        {
            // Approval mode exists so that someone other than the asker decides: the app's own key
            // may rate a held answer or time the task, but only reviewers release or reject it.
            if (!MayReview(who, policy.Current.Systems.TryGetValue(interaction.System, out var system) ? system.State.Spec : null))
            {
                throw Problems.Forbidden($"'{id}' is held for approval: only reviewers of '{interaction.System}', its owner or an admin may review it");
            }
            if (input.Outcome is ReviewOutcome.Accepted or ReviewOutcome.Edited) EnsureFourEyes(interaction, who);
            return Committed(await control.ExecuteAsync(who.Email,
                command => ApplyReviewAsync(command.Db, command.Now, interaction, input, who, source, command.Audit, ct), ct));
        }
        return Committed(await InTransactionAsync((db, now) => ApplyReviewAsync(db, now, interaction, input, who, source, null, ct), ct));
    }

    /// <summary>
    /// Releases or rejects a held answer (the approvals endpoints). When its interaction is on record
    /// this is an accepted or rejected review like any other, so the queue and the roll-ups follow.
    /// </summary>
    public async Task<ApprovalView> DecideApprovalAsync(string id, ApprovalState state, string? reason, EvidencePoster who, CancellationToken ct)
    {
        if (state == ApprovalState.Pending) throw new ArgumentOutOfRangeException(nameof(state), state, "a decision releases or rejects");
        if (state == ApprovalState.Rejected && string.IsNullOrWhiteSpace(reason)) throw Problems.BadRequest("a rejection needs a reason: the app and the evidence report show it");
        var decided = await control.ExecuteAsync(who.Email, async command =>
        {
            var approval = await command.Db.Approvals.SingleOrDefaultAsync(a => a.InteractionId == id, ct);
            if (approval is null || !MayRead(who, approval.System)) throw Problems.NotFound($"no held answer '{id}'");
            var system = await command.Db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == approval.System, ct);
            var spec = system is null ? null : SpecCanonicalJson.Deserialize(system.SpecJson);
            if (!MayReview(who, spec))
            {
                throw Problems.Forbidden($"only reviewers of '{approval.System}'{ReviewerGroups(spec)}, its owner or an admin may decide its held answers");
            }
            if (approval.State != ApprovalStates.Pending) throw Problems.Conflict($"'{id}' was already {approval.State} by {approval.DecidedBy}");
            var interaction = await command.Db.Interactions.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, ct);
            if (interaction is not null && state == ApprovalState.Released) EnsureFourEyes(interaction, who);
            if (interaction is null)
            {
                // A held answer without its record (written by hand or imported): decide it alone.
                Decide(approval, state, who.Email, command.Now, reason?.Trim(), command.Audit);
            }
            else
            {
                var input = new ReviewInput(state == ApprovalState.Released ? ReviewOutcome.Accepted : ReviewOutcome.Rejected, null, null, null,
                    string.IsNullOrWhiteSpace(reason) ? null : reason.Trim(), [], null);
                await ApplyReviewAsync(command.Db, command.Now, interaction, input, who, SourceReviewer, command.Audit, ct);
            }
            return ApprovalView.Of(approval);
        }, ct);
        ReviewCommitted?.Invoke(id, ReceiptStatuses.Recorded);
        return decided;
    }

    private static async Task<ReviewReceipt> ApplyReviewAsync(PilotageDbContext db, DateTimeOffset now, InteractionRow interaction, ReviewInput input,
        EvidencePoster who, string source, AuditSink? audit, CancellationToken ct)
    {
        await LockAsync(db, interaction.Id, ct);
        var boundary = await Evidence.EvidenceBoundary.PolicyAsync(db, interaction.System, ct);
        input = input with
        {
            FinalText = Evidence.EvidenceBoundary.Apply(boundary, input.FinalText, "final_text", interaction.System),
            Reason = Evidence.EvidenceBoundary.Apply(boundary, input.Reason, "reason", interaction.System),
        };
        var old = await db.Reviews.SingleOrDefaultAsync(r => r.InteractionId == interaction.Id, ct);
        var item = await db.ReviewItems.SingleOrDefaultAsync(r => r.InteractionId == interaction.Id, ct);
        var approval = interaction.Outcome == InteractionOutcomes.Held ? await db.Approvals.SingleOrDefaultAsync(a => a.InteractionId == interaction.Id, ct) : null;

        // Time: what the reviewer says; else what was already recorded (a correction does not
        // re-spend the time); else measured from when the item was opened in the queue.
        var seconds = input.Seconds ?? old?.Seconds ?? Measured(item, now);
        var reworkSeconds = input.ReworkSeconds ?? old?.ReworkSeconds ?? 0;
        double? rework = null;
        if (input.Outcome == ReviewOutcome.Edited && AnswerOf(interaction, approval) is { } answer)
        {
            rework = Rework.Between(answer, input.FinalText!);
        }
        var review = new ReviewRow
        {
            InteractionId = interaction.Id,
            System = interaction.System,
            Outcome = input.Outcome.Name(),
            FinalText = input.FinalText,
            Reason = input.Reason,
            Tags = ReviewRules.TagsJson(input.Tags),
            EscalatedTo = input.EscalatedTo,
            Reviewer = who.Email,
            Seconds = seconds,
            Rework = rework,
            ReworkSeconds = reworkSeconds,
            ReviewedAt = now,
            Source = source,
        };

        string status;
        if (old is not null && SameReview(old, review))
        {
            // An identical re-submission (an app retrying after a timeout) changes nothing.
            status = ReceiptStatuses.Unchanged;
            review = old;
        }
        else
        {
            var key = RollupKey.Of(interaction);
            var delta = new RollupDelta();
            if (old is not null) delta.Add(key, TotalsOf(old), -1);
            delta.Add(key, TotalsOf(review));
            await RollupWriter.ApplyAsync(db.Database.GetDbConnection(), db.Database.CurrentTransaction!.GetDbTransaction(), delta, ct);
            if (old is null)
            {
                db.Reviews.Add(review);
                status = ReceiptStatuses.Recorded;
            }
            else
            {
                db.Entry(old).CurrentValues.SetValues(review);
                review = old;
                status = ReceiptStatuses.Replaced;
            }
        }

        // A held answer follows its first decisive review; once released the app may have it, so a
        // later review changes the evidence, not what was released.
        if (approval?.State == ApprovalStates.Pending && audit is not null)
        {
            switch (input.Outcome)
            {
                case ReviewOutcome.Accepted:
                    Decide(approval, ApprovalState.Released, who.Email, now, input.Reason, audit);
                    break;
                case ReviewOutcome.Edited:
                    approval.HeldResponse = ContentText.ReplaceAnswer(approval.HeldResponse, input.FinalText!);
                    Decide(approval, ApprovalState.Released, who.Email, now, input.Reason, audit);
                    break;
                case ReviewOutcome.Rejected:
                    Decide(approval, ApprovalState.Rejected, who.Email, now, input.Reason, audit);
                    break;
            }
        }
        // An escalated answer that is still held waits in the queue for whoever it went to.
        if (item is { State: ReviewItemStates.Pending } && approval?.State != ApprovalStates.Pending)
        {
            item.State = ReviewItemStates.Done;
            item.DoneAt = now;
        }
        return new ReviewReceipt(status, ToView(review), approval?.State);
    }

    private static bool SameReview(ReviewRow a, ReviewRow b) =>
        a.Outcome == b.Outcome && a.FinalText == b.FinalText && a.Reason == b.Reason && a.Tags == b.Tags && a.EscalatedTo == b.EscalatedTo
        && string.Equals(a.Reviewer, b.Reviewer, StringComparison.OrdinalIgnoreCase) && a.Seconds.Equals(b.Seconds)
        && a.ReworkSeconds.Equals(b.ReworkSeconds) && Nullable.Equals(a.Rework, b.Rework);

    /// <summary>What a stored review contributes to the roll-ups; the same function retracts it, so replacement is exact.</summary>
    internal static EvidenceTotals TotalsOf(ReviewRow review) =>
        EvidenceTotals.ForReview(ReviewRules.OutcomeOf(review.Outcome), review.Seconds, review.Rework, review.ReworkSeconds,
            ReviewRules.ParseTags(review.Tags).Contains(ReviewOutcomes.OutOfScopeTag));

    private static double Measured(ReviewItemRow? item, DateTimeOffset now)
    {
        if (item?.OpenedAt is not { } opened) return 0;
        // A queue item left open overnight is not a day of review work: capped like a stated time.
        return Math.Clamp((now - opened).TotalSeconds, 0, ReviewRules.MaxSeconds - 1);
    }

    private static void Decide(ApprovalRow approval, ApprovalState state, string actor, DateTimeOffset now, string? reason, AuditSink audit)
    {
        approval.State = state.Name();
        approval.DecidedBy = actor;
        approval.DecidedAt = now;
        approval.Reason = reason;
        audit($"approval.{approval.State}", $"interaction:{approval.InteractionId}", null,
            JsonSerializer.Serialize(ApprovalView.Of(approval), ReviewsApiJsonContext.Default.ApprovalView));
    }

    // ---- feedback and task time -------------------------------------------------------------------

    /// <summary>One rating per person per interaction; posting again replaces it.</summary>
    public async Task<FeedbackReceipt> FeedbackAsync(string id, FeedbackRequest? request, EvidencePoster who, CancellationToken ct)
    {
        var (rating, comment) = ReviewRules.Validate(request);
        var interaction = await FindForPostingAsync(id, who, "rate", ct);
        return await InTransactionAsync(async (db, now) =>
        {
            await LockAsync(db, id, ct);
            comment = Evidence.EvidenceBoundary.Apply(await Evidence.EvidenceBoundary.PolicyAsync(db, interaction.System, ct), comment, "comment", interaction.System);
            var old = await db.Feedback.SingleOrDefaultAsync(f => f.InteractionId == id && f.UserId == who.UserId, ct);
            if (old is not null && old.Rating == rating && old.Comment == comment) return new FeedbackReceipt(ReceiptStatuses.Unchanged, ToView(old));
            var key = RollupKey.Of(interaction);
            var delta = new RollupDelta();
            if (old is not null) delta.Add(key, EvidenceTotals.ForFeedback(old.Rating), -1);
            delta.Add(key, EvidenceTotals.ForFeedback(rating));
            await RollupWriter.ApplyAsync(db.Database.GetDbConnection(), db.Database.CurrentTransaction!.GetDbTransaction(), delta, ct);
            var row = old ?? db.Feedback.Add(new FeedbackRow { InteractionId = id, UserId = who.UserId, System = interaction.System }).Entity;
            row.Rating = rating;
            row.Comment = comment;
            row.At = now;
            return new FeedbackReceipt(old is null ? ReceiptStatuses.Recorded : ReceiptStatuses.Replaced, ToView(row));
        }, ct);
    }

    /// <summary>The minutes the task took; one figure per interaction, posting again replaces it.</summary>
    public async Task<TaskReceipt> TaskAsync(string id, TaskRequest? request, EvidencePoster who, CancellationToken ct)
    {
        var minutes = ReviewRules.Minutes(request?.Minutes);
        var interaction = await FindForPostingAsync(id, who, "time", ct);
        return await InTransactionAsync((db, now) => ApplyTaskAsync(db, now, interaction, minutes, who, ct), ct);
    }

    private static async Task<TaskReceipt> ApplyTaskAsync(PilotageDbContext db, DateTimeOffset now, InteractionRow interaction, double minutes, EvidencePoster who, CancellationToken ct)
    {
        await LockAsync(db, interaction.Id, ct);
        var old = await db.TaskTimes.SingleOrDefaultAsync(t => t.InteractionId == interaction.Id, ct);
        if (old is not null && old.Minutes.Equals(minutes)) return new TaskReceipt(ReceiptStatuses.Unchanged, ToView(old));
        var key = RollupKey.Of(interaction);
        var delta = new RollupDelta();
        if (old is not null) delta.Add(key, EvidenceTotals.ForTask(old.Minutes), -1);
        delta.Add(key, EvidenceTotals.ForTask(minutes));
        await RollupWriter.ApplyAsync(db.Database.GetDbConnection(), db.Database.CurrentTransaction!.GetDbTransaction(), delta, ct);
        var row = old ?? db.TaskTimes.Add(new TaskTimeRow { InteractionId = interaction.Id, System = interaction.System }).Entity;
        row.Minutes = minutes;
        row.UserId = who.UserId;
        row.At = now;
        return new TaskReceipt(old is null ? ReceiptStatuses.Recorded : ReceiptStatuses.Replaced, ToView(row));
    }

    // ---- manual work ----------------------------------------------------------------------------

    /// <summary>
    /// Work done without AI, recorded like an interaction (endpoint and mode <c>manual</c>) through the
    /// evidence writer, durably: it is queued for review like a draft and counted in the <c>manual</c>
    /// roll-ups, whose task minutes are the measured baseline. Its task time follows in a second transaction.
    /// </summary>
    public async Task<ManualTaskView> ManualTaskAsync(ManualTaskRequest? request, KeyGrant key, CancellationToken ct)
    {
        var slug = request?.Model?.Trim();
        if (string.IsNullOrEmpty(slug)) throw Problems.BadRequest("'model' is required: the AI system this work is compared with (its name, as in chat completions)");
        var minutes = ReviewRules.Minutes(request!.Minutes);
        if (request.Prompt is { Length: > ReviewRules.MaxManualText } || request.Answer is { Length: > ReviewRules.MaxManualText })
        {
            throw Problems.BadRequest($"'prompt' and 'answer' may have at most {ReviewRules.MaxManualText} characters each");
        }
        var snapshot = policy.Current;
        if (!snapshot.Systems.TryGetValue(slug, out var system)) throw Problems.NotFound($"there is no AI system '{slug}'");
        var who = EvidencePoster.From(key.User);
        var spec = system.State.Spec;
        if (!MayReview(who, spec) && !InScope(system, who))
        {
            throw Problems.Forbidden($"{who.Email} may not record work for '{slug}': only people who may use it, its reviewers, its owner or an admin");
        }
        var now = time.GetUtcNow();
        var keep = spec.Evidence.Content != ContentRetention.Hashes;
        var row = new InteractionRow
        {
            Id = InteractionId.New(time),
            CreatedAt = now,
            System = slug,
            Phase = system.State.Lifecycle.Phase.ToString().ToLowerInvariant(),
            Stage = system.State.Lifecycle.Stage,
            ConfigVersion = system.State.ConfigVersion,
            UserId = who.UserId,
            UserEmail = who.Email,
            KeyId = key.Id,
            Groups = JsonSerializer.Serialize(who.Groups.Order(StringComparer.Ordinal).ToArray(), GatewayJsonContext.Default.StringArray),
            Endpoint = InteractionEndpointNames.Manual,
            Mode = InteractionModes.Manual,
            Outcome = InteractionOutcomes.Served,
            RequestHash = Hash(request.Prompt),
            ResponseHash = Hash(request.Answer),
            RequestContent = keep ? request.Prompt : null,
            ResponseContent = keep ? request.Answer : null,
        };
        try
        {
            await evidence.AppendAsync(row, Evidence.EvidenceDurability.Durable, ct);
        }
        catch (EvidenceUnavailableException e)
        {
            throw new CommandRefusedException(StatusCodes.Status503ServiceUnavailable, "Evidence unavailable", $"the manual work could not be recorded ({e.Message}); try again shortly");
        }
        // The record is committed: from here on a failure leaves it without its minutes, which the
        // caller can add with POST /v1/interactions/{id}/task.
        await InTransactionAsync((db, at) => ApplyTaskAsync(db, at, row, minutes, who, ct), ct);
        return new ManualTaskView(row.Id, slug, minutes, ReviewItemStates.Pending, now);
    }

    private static bool InScope(GatewaySystem system, EvidencePoster who) => SystemAccess.MayUse(who.Person, system.State.Spec, system.State.Lifecycle);

    // ---- queue and records ------------------------------------------------------------------------

    /// <summary>Pending items of the systems the caller reviews (every system for an admin), oldest first.</summary>
    public async Task<IReadOnlyList<ReviewQueueItem>> QueueAsync(string? system, int? limit, EvidencePoster who, CancellationToken ct)
    {
        var take = Math.Clamp(limit ?? 50, 1, 500);
        var snapshot = policy.Current;
        await using var db = store.CreateDbContext();
        var query = db.ReviewItems.AsNoTracking().Where(i => i.State == ReviewItemStates.Pending);
        if (!string.IsNullOrEmpty(system))
        {
            var spec = snapshot.Systems.TryGetValue(system, out var known) ? known.State.Spec : null;
            if (spec is null && who.Role != Role.Admin) throw SystemScope.NoSystem(system);
            if (spec is not null && !MayRead(who, system)) throw SystemScope.NoSystem(system);
            if (!MayReview(who, spec)) throw Problems.Forbidden($"{who.Email} does not review '{system}': its queue is for reviewers{ReviewerGroups(spec)}, its owner and admins");
            query = query.Where(i => i.System == system);
        }
        else if (who.Role != Role.Admin)
        {
            var mine = snapshot.Systems.Values.Where(s => MayReview(who, s.State.Spec)).Select(s => s.State.Slug).ToList();
            query = query.Where(i => mine.Contains(i.System));
        }
        // Interaction ids begin with their creation time (UUIDv7), which is when they were enqueued:
        // ordering by id is oldest first and indexable on both stores (SQLite cannot ORDER BY a
        // DateTimeOffset through EF). The page is then sorted exactly by the stored time.
        var items = await query.OrderBy(i => i.InteractionId).Take(take).ToListAsync(ct);
        var ids = items.Select(i => i.InteractionId).ToList();
        var interactions = await db.Interactions.AsNoTracking().Where(i => ids.Contains(i.Id)).ToDictionaryAsync(i => i.Id, ct);
        var approvals = await db.Approvals.AsNoTracking().Where(a => ids.Contains(a.InteractionId)).ToDictionaryAsync(a => a.InteractionId, ct);
        var now = time.GetUtcNow();
        return items
            .OrderBy(i => i.EnqueuedAt).ThenBy(i => i.InteractionId, StringComparer.Ordinal)
            .Select(i => ToQueueItem(i, interactions.GetValueOrDefault(i.InteractionId), approvals.GetValueOrDefault(i.InteractionId), now))
            .ToList();
    }

    /// <summary>Marks a queue item opened (the first open wins), so the review time can be measured.</summary>
    public async Task<ReviewQueueItem> OpenAsync(string id, EvidencePoster who, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var item = await db.ReviewItems.AsNoTracking().SingleOrDefaultAsync(i => i.InteractionId == id, ct);
        if (item is null || !MayRead(who, item.System)) throw Problems.NotFound($"'{id}' is not in the review queue");
        var spec = policy.Current.Systems.TryGetValue(item.System, out var system) ? system.State.Spec : null;
        if (!MayReview(who, spec)) throw Problems.Forbidden($"{who.Email} does not review '{item.System}': its queue is for reviewers{ReviewerGroups(spec)}, its owner and admins");
        var now = time.GetUtcNow();
        DateTimeOffset? at = now;
        // One conditional UPDATE: of two reviewers opening at once, exactly one sets the time.
        await db.ReviewItems.Where(i => i.InteractionId == id && i.OpenedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.OpenedAt, at).SetProperty(i => i.OpenedBy, who.Email), ct);
        item = await db.ReviewItems.AsNoTracking().SingleAsync(i => i.InteractionId == id, ct);
        var interaction = await db.Interactions.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, ct);
        var approval = await db.Approvals.AsNoTracking().SingleOrDefaultAsync(a => a.InteractionId == id, ct);
        return ToQueueItem(item, interaction, approval, now);
    }

    /// <summary>One evidence record with its review, feedback and task time.</summary>
    public async Task<InteractionRecordView> RecordAsync(string id, EvidencePoster who, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Interactions.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, ct);
        // Not yours and not there answer alike: a record of a system the caller may not read does not exist for them.
        if (row is null || !MayRead(who, row.System)) throw Problems.NotFound($"no interaction '{id}'");
        var review = await db.Reviews.AsNoTracking().SingleOrDefaultAsync(r => r.InteractionId == id, ct);
        var item = await db.ReviewItems.AsNoTracking().SingleOrDefaultAsync(r => r.InteractionId == id, ct);
        var approval = await db.Approvals.AsNoTracking().SingleOrDefaultAsync(a => a.InteractionId == id, ct);
        var feedback = await db.Feedback.AsNoTracking().Where(f => f.InteractionId == id).OrderBy(f => f.UserId).ToListAsync(ct);
        var task = await db.TaskTimes.AsNoTracking().SingleOrDefaultAsync(t => t.InteractionId == id, ct);
        var plain = IsPlain(row);
        return new InteractionRecordView(
            row.Id, row.CreatedAt, row.System, row.Phase, row.Stage, row.ConfigVersion, row.UserEmail, row.Endpoint, row.Mode, row.Outcome,
            row.RefusalCode, row.RefusalReason, ContentText.Element(row.DetectorHits), row.Streamed, row.TokensIn, row.TokensOut, row.Cost,
            row.FirstByteMs, row.TotalMs, row.UpstreamStatus, row.Category, row.RequestHash, row.ResponseHash,
            ContentText.Prompt(row.RequestContent, plain), AnswerOf(row, approval),
            approval is null ? null : ApprovalView.Of(approval),
            item is null ? null : ToQueueItem(item, row, approval, time.GetUtcNow()),
            review is null ? null : ToView(review),
            feedback.Select(ToView).ToList(),
            task is null ? null : ToView(task));
    }

    // ---- shared ------------------------------------------------------------------------------------

    /// <summary>
    /// Reviewers of the system (role reviewer in one of its review groups), its owner and admins.
    /// Auditors read everything but add no evidence.
    /// </summary>
    internal static bool MayReview(EvidencePoster who, SystemSpec? spec) => SystemAccess.MayReview(who.Person, spec);

    /// <summary>Whether the system's records exist for the caller (<see cref="SystemAccess.MayRead"/>).</summary>
    private bool MayRead(EvidencePoster who, string slug) =>
        policy.Current.Systems.TryGetValue(slug, out var system) ? SystemAccess.MayRead(who.Person, system.State.Spec, system.State.PendingOwner) : who.Role is Role.Admin or Role.Auditor;

    /// <summary>
    /// Four eyes on approval mode: the person who asked never releases their own held answer, whatever
    /// their role. Rejecting it, or escalating it, stays open to them: neither lets the answer out.
    /// </summary>
    private static void EnsureFourEyes(InteractionRow interaction, EvidencePoster who)
    {
        var asker = (interaction.UserId != 0 && interaction.UserId == who.UserId)
            || (interaction.UserEmail is { Length: > 0 } email && string.Equals(email, who.Email, StringComparison.OrdinalIgnoreCase));
        if (!asker) return;
        throw Problems.Forbidden($"'{interaction.Id}' was asked by {who.Email}: a held answer must be released by someone other than the person who asked (four eyes), " +
            $"whatever their role. Ask someone else who reviews '{interaction.System}' (a reviewer, its owner or an admin) to release it; you may still reject it.");
    }

    /// <summary>The interaction, if <paramref name="who"/> may add evidence to it: the person whose key made it, or a reviewer, owner or admin.</summary>
    private async Task<InteractionRow> FindForPostingAsync(string id, EvidencePoster who, string verb, CancellationToken ct)
    {
        InteractionRow? row;
        await using (var db = store.CreateDbContext())
        {
            row = await db.Interactions.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, ct);
        }
        if (row is null) throw Problems.NotFound($"no interaction '{id}'; the id is in the x-pilotage-interaction-id header of the answer");
        var spec = policy.Current.Systems.TryGetValue(row.System, out var system) ? system.State.Spec : null;
        var own = row.UserId != 0 && row.UserId == who.UserId;
        if (!own && !MayRead(who, row.System)) throw Problems.NotFound($"no interaction '{id}'; the id is in the x-pilotage-interaction-id header of the answer");
        if (!own && !MayReview(who, spec))
        {
            throw Problems.Forbidden($"{who.Email} may not {verb} '{id}': only the person whose key made it, reviewers of '{row.System}'{ReviewerGroups(spec)}, its owner or an admin");
        }
        var answered = row.Endpoint is InteractionEndpointNames.Chat or InteractionEndpointNames.Manual && row.Outcome is InteractionOutcomes.Served or InteractionOutcomes.Held or InteractionOutcomes.Shadowed;
        if (!answered)
        {
            var what = row.Endpoint == InteractionEndpointNames.Chat ? $"was {row.Outcome}" : $"is an {row.Endpoint} request";
            throw Problems.Conflict($"'{id}' {what}: there is no answer to {verb}. Work done without the AI is recorded with POST /v1/manual-tasks");
        }
        return row;
    }

    private static string ReviewerGroups(SystemSpec? spec) =>
        spec is null || spec.Review.Reviewers.Count == 0 ? "" : $" (groups: {string.Join(", ", spec.Review.Reviewers)})";

    private async Task<T> InTransactionAsync<T>(Func<PilotageDbContext, DateTimeOffset, Task<T>> work, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        // Begun before anything is read: on SQLite this is BEGIN IMMEDIATE, the write lock.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var result = await work(db, time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return result;
    }

    /// <summary>PostgreSQL: locks the interaction row until commit, serialising writes about it across replicas.</summary>
    private static async Task LockAsync(PilotageDbContext db, string id, CancellationToken ct)
    {
        if (db.Provider == StoreProvider.PostgreSql)
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM interactions WHERE id = {id} FOR UPDATE", ct);
        }
    }

    private static bool IsPlain(InteractionRow row) => row.Streamed || row.Endpoint == InteractionEndpointNames.Manual;

    /// <summary>
    /// The AI's own answer: from the record, or for a held answer whose content the retention setting
    /// did not keep, from the approval while it still is the original (same hash; an edited release rewrote it).
    /// </summary>
    internal static string? AnswerOf(InteractionRow row, ApprovalRow? approval)
    {
        if (row.ResponseContent is not null) return ContentText.Answer(row.ResponseContent, IsPlain(row));
        if (approval is not null && (row.ResponseHash is null || row.ResponseHash == Hash(approval.HeldResponse))) return ContentText.Answer(approval.HeldResponse, plain: false);
        return null;
    }

    private static string? Hash(string? text) =>
        text is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static ReviewQueueItem ToQueueItem(ReviewItemRow item, InteractionRow? row, ApprovalRow? approval, DateTimeOffset now) => new(
        item.InteractionId, item.System, item.Kind, item.State, item.EnqueuedAt, Math.Max(0, (now - item.EnqueuedAt).TotalSeconds), item.OpenedAt, item.OpenedBy,
        row is null ? null : ContentText.Prompt(row.RequestContent, IsPlain(row)),
        row is null ? null : approval?.State == ApprovalStates.Pending ? ContentText.Answer(approval.HeldResponse, plain: false) : AnswerOf(row, approval),
        ContentText.Element(row?.DetectorHits), approval?.State == ApprovalStates.Pending, row?.UserEmail);

    internal static ReviewView ToView(ReviewRow r) => new(
        r.InteractionId, r.System, r.Outcome, r.FinalText, r.Reason, ReviewRules.ParseTags(r.Tags), r.EscalatedTo, r.Reviewer,
        r.Seconds, r.Rework, r.ReworkSeconds, r.ReviewedAt, r.Source);

    private static FeedbackView ToView(FeedbackRow f) => new(f.InteractionId, f.UserId, f.Rating, f.Comment, f.At);

    private static TaskTimeView ToView(TaskTimeRow t) => new(t.InteractionId, t.Minutes, t.UserId, t.At);
}

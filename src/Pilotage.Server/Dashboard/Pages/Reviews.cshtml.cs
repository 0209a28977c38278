using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Server.Reviews;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>The review queue through <see cref="ReviewService"/>, exactly as the API's reviewers use it.</summary>
public sealed class ReviewsModel(ReviewService reviews) : DashboardPage
{
    public override Permission Needed => Permission.Review;

    public IReadOnlyList<ReviewQueueItem> Queue { get; private set; } = [];

    public ReviewQueueItem? Current { get; private set; }

    /// <summary>Four eyes: the person who asked does not release their own held answer (the service refuses it too).</summary>
    public bool AskedByMe(ReviewQueueItem item) => string.Equals(item.UserEmail, Me.Email, StringComparison.OrdinalIgnoreCase);

    public async Task OnGetAsync(string? id, CancellationToken ct) => await LoadAsync(id, ct);

    public async Task<IActionResult> OnPostReviewAsync(string id, string? outcome, string? finalText, string? reason, string? escalatedTo, string? seconds, CancellationToken ct)
    {
        // The browser's measure of the time on this item when it has one; otherwise the service measures from when it was opened.
        double? spent = double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is >= 0 and < 86_400 ? s : null;
        var request = new ReviewRequest(outcome, ReviewOutcomes.Parse(outcome) == ReviewOutcome.Edited ? finalText : null, spent, null,
            string.IsNullOrWhiteSpace(reason) ? null : reason, null, string.IsNullOrWhiteSpace(escalatedTo) ? null : escalatedTo);
        if (await TryAsync(() => reviews.ReviewAsync(id, request, Poster, ReviewService.SourceReviewer, ct)))
        {
            Notice = $"Recorded: {outcome} ({id}).";
            return RedirectToPage();
        }
        await LoadAsync(id, ct);
        return Page();
    }

    public Task<IActionResult> OnPostReleaseAsync(string id, CancellationToken ct) => DecideHeldAsync(id, ApprovalState.Released, null, ct);

    public Task<IActionResult> OnPostRejectHeldAsync(string id, string? reason, CancellationToken ct) => DecideHeldAsync(id, ApprovalState.Rejected, reason, ct);

    private async Task<IActionResult> DecideHeldAsync(string id, ApprovalState state, string? reason, CancellationToken ct)
    {
        if (await TryAsync(() => reviews.DecideApprovalAsync(id, state, reason, Poster, ct)))
        {
            Notice = $"Held answer {id} {state.Name()}.";
            return RedirectToPage();
        }
        await LoadAsync(id, ct);
        return Page();
    }

    private EvidencePoster Poster => EvidencePoster.From(Me);

    private async Task LoadAsync(string? id, CancellationToken ct)
    {
        Queue = await reviews.QueueAsync(null, 200, Poster, ct);
        var chosen = Queue.FirstOrDefault(i => i.InteractionId == id) ?? (Queue.Count > 0 ? Queue[0] : null);
        if (chosen is null) return;
        // Opening marks the item, so the time spent is measured from now (the first open wins).
        try
        {
            Current = await reviews.OpenAsync(chosen.InteractionId, Poster, ct);
        }
        catch (Storage.CommandRefusedException)
        {
            // Decided or dequeued between the list and the open: show what the list had.
            Current = chosen;
        }
    }
}

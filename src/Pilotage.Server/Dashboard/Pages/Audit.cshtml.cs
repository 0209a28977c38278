using Pilotage.Core.Access;
using Pilotage.Core.Audit;
using Pilotage.Server.Audit;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Dashboard.Pages;

public sealed class AuditModel(AuditTrail trail) : DashboardPage
{
    public const int Shown = 200;

    public override Permission Needed => Permission.AuditRead;

    public IReadOnlyList<AuditEntryRow> Entries { get; private set; } = [];

    public AuditVerification? Verification { get; private set; }

    public string VerificationText => Verification is not { } v ? ""
        : v.Ok ? $"Verified: all {v.Entries} entries chain, head hash {v.HeadHash?[..Math.Min(16, v.HeadHash.Length)]}…, and the log is consistent with its signed checkpoints."
        : v.FirstBad is { } bad ? $"Broken at entry {bad.Sequence}: {bad.Reason}. The trail was changed outside Pilotage; see docs/audit.md."
        : $"{AuditVerdicts.Summary(v)}. The log was changed outside Pilotage; see docs/audit.md.";

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task OnPostVerifyAsync(CancellationToken ct)
    {
        Verification = await trail.VerifyAsync(ct);
        await LoadAsync(ct);
    }

    private async Task LoadAsync(CancellationToken ct) => Entries = await trail.RecentAsync(Shown, ct);
}

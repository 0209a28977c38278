namespace Pilotage.Server.Health;

/// <summary>
/// Whether start-up finished: Kestrel listens before the bootstrap admin exists (its announcement needs
/// the bound address), and a readiness probe answering 200 in that gap let clients in to a 401.
/// </summary>
public sealed class StartupState
{
    private volatile bool _complete;

    public bool Complete => _complete;

    public void MarkComplete() => _complete = true;
}

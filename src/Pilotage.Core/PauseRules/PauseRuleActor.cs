namespace Pilotage.Core.PauseRules;

/// <summary>Who a pause rule acts as in the audit trail: this prefix and the rule's metric.</summary>
public static class PauseRuleActor
{
    public const string Prefix = "pause rule: ";
}

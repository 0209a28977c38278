using CsCheck;
using Pilotage.Core.Access;

namespace Pilotage.Core.Tests.Access;

/// <summary>Roles from directory groups: the highest mapped role wins; without a mapped group the admin's choice stands.</summary>
public sealed class DirectoryRoleMapTests
{
    private static readonly DirectoryRoleMap Map = DirectoryRoleMap.Parse(
        [new("pilotage-admins", "admin"), new("ai-reviewers", "reviewer"), new("Risk-Office", "auditor"), new("system-owners", "owner")],
        [new("8f1c6a0e-2b1d-4c55-9a57-0c2f5b1e9d11", "ai-reviewers")]);

    [Fact]
    public void The_highest_mapped_role_wins_and_names_its_group()
    {
        var decision = Map.Decide(Role.Member, ["support", "ai-reviewers", "pilotage-admins"]);
        Assert.Equal(Role.Admin, decision.Role);
        Assert.Equal(RoleSource.DirectoryGroup, decision.Source);
        Assert.Equal(new RoleRule("pilotage-admins", Role.Admin), decision.Rule);
        Assert.Equal(["pilotage-admins", "ai-reviewers"], decision.Matched.Select(m => m.Group));
        Assert.Contains("from directory group pilotage-admins (rule pilotage-admins → admin)", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("ai-reviewers → reviewer", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_mapped_group_the_role_an_admin_gave_stands()
    {
        var decision = Map.Decide(Role.Owner, ["support", "sales"]);
        Assert.Equal(Role.Owner, decision.Role);
        Assert.Equal(RoleSource.Assigned, decision.Source);
        Assert.Null(decision.Rule);
        Assert.Contains("given by an admin", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mapped_group_outranks_the_admins_choice_both_ways()
    {
        // Access is managed in the directory: an admin-given admin in a reviewer group is a reviewer.
        Assert.Equal(Role.Reviewer, Map.Decide(Role.Admin, ["ai-reviewers"]).Role);
        Assert.Equal(Role.Auditor, Map.Decide(Role.Member, ["risk-office"]).Role);
    }

    [Fact]
    public void Group_ids_translate_to_names_and_names_are_lowercased()
    {
        Assert.Equal("ai-reviewers", Map.GroupNameOf("8F1C6A0E-2B1D-4C55-9A57-0C2F5B1E9D11"));
        Assert.Equal("support", Map.GroupNameOf(" Support "));
        Assert.Null(Map.GroupNameOf("not a group!"));
        Assert.Equal("risk-office", Assert.Single(Map.Rules, r => r.Role == Role.Auditor).Group);
    }

    [Fact]
    public void A_mapping_that_cannot_be_read_names_every_bad_entry()
    {
        var e = Assert.Throws<ArgumentException>(() => DirectoryRoleMap.Parse(
            [new("admins", "superuser"), new("bad group!", "admin"), new("ok", "member")], [new("", "ok"), new("abc", "no way")]));
        Assert.Contains("unknown role 'superuser'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'bad group!' is not a group name", e.Message, StringComparison.Ordinal);
        Assert.Contains("GroupIds: '' is not a group id", e.Message, StringComparison.Ordinal);
        Assert.Contains("'no way' is not a group name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_map_always_keeps_the_assigned_role()
    {
        Assert.True(DirectoryRoleMap.Empty.IsEmpty);
        Assert.Equal(Role.Auditor, DirectoryRoleMap.Empty.Decide(Role.Auditor, ["pilotage-admins"]).Role);
    }

    private static readonly string[] Universe = ["pilotage-admins", "ai-reviewers", "risk-office", "system-owners", "support", "sales", "8f1c6a0e-2b1d-4c55-9a57-0c2f5b1e9d11"];

    [Fact]
    public void For_any_groups_the_role_is_the_maximum_of_the_mapped_roles_or_the_assigned_one()
    {
        Gen.Select(Gen.Enum<Role>(), Gen.OneOf(Universe).HashSet[0, 6]).Sample((assigned, groups) =>
        {
            var decision = Map.Decide(assigned, groups);
            var mapped = groups.Select(g => Map.Rules.SingleOrDefault(r => r.Group == g)).OfType<RoleRule>().ToList();
            var expected = mapped.Count == 0 ? assigned : mapped.Max(r => r.Role);
            return decision.Role == expected
                && decision.Assigned == assigned
                && (decision.Rule is null) == (mapped.Count == 0)
                && decision.Matched.Count == mapped.Count
                && (decision.Rule is null || groups.Contains(decision.Rule.Group));
        });
    }

    [Fact]
    public void The_decision_does_not_depend_on_the_order_or_case_of_the_groups()
    {
        Gen.Select(Gen.Enum<Role>(), Gen.OneOf(Universe).List[0, 6], Gen.Bool).Sample((assigned, groups, upper) =>
        {
            var a = Map.Decide(assigned, groups);
            var b = Map.Decide(assigned, Enumerable.Reverse(groups).Select(g => upper ? g.ToUpperInvariant() : g));
            return a.Role == b.Role && a.Rule == b.Rule && a.Reason == b.Reason;
        });
    }

    [Fact]
    public void Joining_a_group_never_lowers_a_directory_given_role()
    {
        Gen.Select(Gen.OneOf(Universe).HashSet[1, 5], Gen.OneOf(Universe)).Sample((groups, extra) =>
        {
            var before = Map.Decide(Role.Member, groups);
            var after = Map.Decide(Role.Member, groups.Append(extra));
            return before.Source == RoleSource.Assigned || after.Role >= before.Role;
        });
    }
}

using Pilotage.Core.Access;

namespace Pilotage.Core.Tests.Access;

public sealed class KeyDelegationTests
{
    private static readonly DateTimeOffset Parent = new(2030, 1, 10, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(Role.Owner, Role.Admin, "UsersRead")]
    [InlineData(Role.Reviewer, Role.Owner, "SystemsWrite")]
    [InlineData(Role.Member, Role.Reviewer, "SystemsRead")]
    [InlineData(Role.Auditor, Role.Owner, "SystemsWrite")]
    [InlineData(Role.Owner, Role.Auditor, "UsersRead")]
    public void A_key_never_creates_one_with_a_right_it_lacks_and_the_refusal_names_the_right(Role parent, Role holder, string right)
    {
        var refusal = KeyDelegation.Refusal(new KeyRequest("k1", parent, null, "x@example.org", holder, null));

        Assert.NotNull(refusal);
        Assert.Contains($"the right {right}", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_role_may_create_keys_for_itself_and_an_admin_for_every_role()
    {
        foreach (var role in Roles.All)
        {
            Assert.Null(KeyDelegation.Refusal(new KeyRequest("k1", role, null, "x@example.org", role, null)));
            Assert.Null(KeyDelegation.Refusal(new KeyRequest("k1", Role.Admin, null, "x@example.org", role, null)));
        }
    }

    [Fact]
    public void An_expiring_key_creates_only_keys_that_expire_no_later()
    {
        Assert.Contains("would never expire", KeyDelegation.Refusal(new KeyRequest("k1", Role.Admin, Parent, "x@example.org", Role.Member, null)), StringComparison.Ordinal);
        Assert.Contains("is later than 2030-01-10 12:00:00Z", KeyDelegation.Refusal(new KeyRequest("k1", Role.Admin, Parent, "x@example.org", Role.Member, Parent.AddSeconds(1))), StringComparison.Ordinal);
        Assert.Null(KeyDelegation.Refusal(new KeyRequest("k1", Role.Admin, Parent, "x@example.org", Role.Member, Parent)));
        Assert.Null(KeyDelegation.Refusal(new KeyRequest("k1", Role.Member, Parent, "x@example.org", Role.Member, Parent.AddDays(-3))));
        // The same instant written in another offset is not later.
        Assert.Null(KeyDelegation.Refusal(new KeyRequest("k1", Role.Member, Parent, "x@example.org", Role.Member, Parent.ToOffset(TimeSpan.FromHours(2)))));
    }
}

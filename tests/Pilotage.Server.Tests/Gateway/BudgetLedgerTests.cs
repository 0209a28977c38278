using Pilotage.Core.Specs;
using Microsoft.Extensions.Logging.Abstractions;
using Pilotage.Server.Gateway;
using Pilotage.Server.Gateway.Allowances;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Tests.Gateway;

public sealed class BudgetLedgerTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static SystemSpec Spec(string limits)
    {
        var result = SpecReader.Read($"""
            apiVersion: pilotage/v1
            kind: AiSystem
            metadata:
              name: drafts
            spec:
              owner: owner@example.org
              purpose: Budget test
              risk: low
              upstream:
                baseUrl: http://127.0.0.1:9/v1
                model: m
              limits:
            {limits}
            """, "test.yaml");
        Assert.True(result.Ok, string.Join("; ", result.Errors));
        return result.Specs.Single();
    }

    [Fact]
    public void Each_limit_counts_its_own_system_person_day_and_month()
    {
        var clock = new Clock(new DateTimeOffset(2026, 3, 31, 23, 0, 0, TimeSpan.Zero));
        using var sqlite = new ClusterAllowances(new StoreLocation(StoreProvider.Sqlite, "Data Source=budget.db"), clock, NullLogger<ClusterAllowances>.Instance);
        var ledger = new BudgetLedger(clock, sqlite);
        var daily = Spec("    costPerDay: 1.0");
        var perUserMonthly = Spec("    costPerUserPerMonth: 0.5");

        ledger.Add("drafts", 1, clock.Now, 0.4m);
        ledger.Add("drafts", 1, clock.Now, 0.1000000004m);
        ledger.Add("other-system", 1, clock.Now, 5m);
        Assert.Null(ledger.Check(daily, 1, "a@example.org"));
        var overUser = ledger.Check(perUserMonthly, 1, "a@example.org");
        Assert.Equal("budget_exceeded", overUser?.Code);
        Assert.Contains("0.5 of 0.5", overUser!.Message, StringComparison.Ordinal);
        Assert.Null(ledger.Check(perUserMonthly, 2, "b@example.org"));

        ledger.Add("drafts", 2, clock.Now, 0.5m);
        Assert.Equal("budget_exceeded", ledger.Check(daily, 3, "c@example.org")?.Code);

        // An hour later it is April (UTC): a new day and a new month for every limit.
        clock.Now = clock.Now.AddHours(1);
        Assert.Null(ledger.Check(daily, 1, "a@example.org"));
        Assert.Null(ledger.Check(perUserMonthly, 1, "a@example.org"));
        // Evidence from before the turn still counts where it belongs: the day it was costed.
        ledger.Add("drafts", 1, clock.Now.AddHours(-1), 10m);
        Assert.Null(ledger.Check(daily, 1, "a@example.org"));
    }
}

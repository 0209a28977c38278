using System.Text.RegularExpressions;
using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// A number written right before or after a phone, joined to it by a space, once hid part of it: the detector took the
/// longest phone-shaped prefix, "2025 020 7946", and left "0958" visible. Every group that some phone-shaped reading of
/// the run holds is now redacted. These are the attacks, with each way of writing the phone and of joining the number.
/// </summary>
public partial class PhonePrefixTests
{
    private static readonly DataBoundaryPolicy Phones = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["phone"] });

    private static readonly string[] PhonesWritten =
    [
        // UK, national and international, with each separator.
        "020 7946 0958", "020-7946-0958", "020.7946.0958", "020/7946/0958", "020_7946_0958", "020\u00a07946\u00a00958",
        "020\u20137946\u20130958", "+44 20 7946 0958", "+44-20-7946-0958", "+44 (0) 20 7946 0958",
        // US.
        "555 123 4567", "555-123-4567", "555.123.4567", "(555) 123-4567", "+1 555 123 4567", "+1.555.123.4567",
        // Other countries.
        "030/1234567", "+49 30 1234567", "06 12 34 56 78", "+33 1 23 45 67 89", "0171 2345678", "+31 20 123 4567",
    ];

    /// <summary>Numbers a hostile user puts in front of or after the phone: years, small numbers, fractions, lists.</summary>
    private static readonly string[] Numbers = ["2025", "12", "1", "99", "2025 2026", "1/2", "7", "1 2 3", "88 88"];

    /// <summary>How the number is joined to the phone: spaces of every kind, one or several.</summary>
    private static readonly string[] Joins = [" ", "  ", "\u00a0", "\u2009", "\u202f", "\u3000"];

    public static TheoryData<string, string, string, bool> Attacks()
    {
        var data = new TheoryData<string, string, string, bool>();
        foreach (var phone in PhonesWritten)
        {
            foreach (var number in Numbers)
            {
                foreach (var join in Joins)
                {
                    data.Add(phone, number, join, true);
                    data.Add(phone, number, join, false);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public void No_digit_group_of_the_phone_stays_visible(string phone, string number, string join, bool before)
    {
        Assert.NotEmpty(Phones.Apply($"call {phone} today").Hits); // the phone alone is one, or the attack proves nothing

        var text = before ? $"call {number}{join}{phone} today" : $"call {phone}{join}{number} today";
        var redacted = Phones.Apply(text).Text;

        // Every digit group left in the text is one of the number's: none of the phone's is.
        var allowed = DigitGroup().Matches(number).Select(m => m.Value).ToHashSet();
        var visible = DigitGroup().Matches(redacted).Select(m => m.Value).Where(g => !allowed.Contains(g)).ToArray();
        Assert.True(visible.Length == 0, $"{Show(text)} became {Show(redacted)}: {string.Join(", ", visible)} visible");
        Assert.DoesNotContain(DigitGroup().Matches(phone), g => g.Length >= 4 && redacted.Contains(g.Value, StringComparison.Ordinal)
            && !number.Contains(g.Value, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public void The_two_scans_agree_on_the_attacks(string phone, string number, string join, bool before)
    {
        var text = before ? $"call {number}{join}{phone} today" : $"call {phone}{join}{number} today";
        var detector = new PhoneDetector();
        List<Finding>? scanned = null, whole = null;
        detector.Find(text, 0, ref scanned);
        detector.FindWithoutShortcuts(text, 0, ref whole);
        Assert.Equal(whole, scanned);
        Assert.Equal(Phones.ScanWithoutShortcuts(text).Kept, Phones.Scan(text, null).Kept);
    }

    [Theory]
    // Both readings of the run are phones: the whole run goes.
    [InlineData("call 2025 020 7946 0958 today", new[] { "2025 020 7946 0958" })]
    [InlineData("call 2025 2026 020 7946 0958 today", new[] { "2025 2026 020 7946 0958" })]
    [InlineData("call 2025 555 123 4567 now", new[] { "2025 555 123 4567" })]
    // A number joined by a space to a phone written with another separator stays outside.
    [InlineData("call 2025 020-7946-0958 today", new[] { "020-7946-0958" })]
    [InlineData("call 2025 (555) 123-4567 now", new[] { "(555) 123-4567" })]
    [InlineData("call 2025 +44 20 7946 0958 now", new[] { "+44 20 7946 0958" })]
    // Two phones separated by a space stay two hits: together they leave nothing visible.
    [InlineData("020 7946 0958 020 7946 0959", new[] { "020 7946 0958", "020 7946 0959" })]
    [InlineData("+44 20 7946 0958 (555) 123-4567", new[] { "+44 20 7946 0958", "(555) 123-4567" })]
    public void The_hits_are_what_a_reader_would_redact(string text, string[] hits) =>
        Assert.Equal(hits, Phones.Apply(text).Hits.Select(h => text.Substring(h.Start, h.Length)));

    [Theory]
    [InlineData("020 7946 0958 4111 1111 1111 1111")]
    [InlineData("4111 1111 1111 1111 020 7946 0958")]
    [InlineData("2025 020 7946 0958 4111 1111 1111 1111")]
    [InlineData("4111 1111 1111 1111 2025 020 7946 0958")]
    [InlineData("4111 1111 1111 1111 020 7946 0958 4111 1111 1111 1111")]
    public void A_phone_next_to_a_card_is_not_lost_to_it(string text)
    {
        // A phone reading that runs into the card loses to it (the phone only fills gaps); the phone beside it stays redacted.
        var policy = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["credit_card", "phone"] });
        var result = policy.Apply(text);

        Assert.Contains(result.Hits, h => h.Detector != "phone");
        Assert.Equal(policy.ScanWithoutShortcuts(text).Kept, policy.Scan(text, null).Kept);
        Assert.DoesNotContain("7946", result.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("0958", result.Text, StringComparison.Ordinal);
    }

    [Theory]
    // A card number that fails the card check, printed like a card, is not read for phones.
    [InlineData("card 4111 1111 1111 1112 expired")]
    [InlineData("card 3782 822463 10006 expired")]
    [InlineData("card 4111 1111 1111 1111 112 expired")]
    // Numbers without a phone-shaped reading stay as they are.
    [InlineData("years 2020 2021 2022 2023")]
    [InlineData("steps 1 2 3 4 5 6 7 8 9")]
    [InlineData("on 2026-11-25 1 000 000 EUR")]
    public void Numbers_without_a_phone_stay_visible(string text) =>
        Assert.Empty(Phones.Apply(text).Hits);

    [Fact]
    public void A_streamed_answer_split_anywhere_redacts_the_prefixed_phones_as_the_whole_text_does()
    {
        // Released text cannot be taken back: a prefix must not let "2025 020 7946" go out before "0958" arrives.
        const string answer = "Sure: call 2025 020 7946 0958 or 12 555 123 4567, fax 2025 2026 020 7946 0959, and 1/2 +44 20 7946 0958 2025 after 9.";
        var whole = Phones.Apply(answer).Text;
        Assert.DoesNotContain("7946", whole, StringComparison.Ordinal);
        Gen.Int[1, answer.Length - 1].Array[1, 12].Sample(cuts =>
        {
            var redactor = new StreamingRedactor(Phones);
            var output = new System.Text.StringBuilder();
            var from = 0;
            foreach (var at in cuts.Distinct().Order().Append(answer.Length))
            {
                output.Append(redactor.Push(answer[from..at]));
                from = at;
            }
            return output.Append(redactor.Flush()).ToString() == whole;
        }, iter: 500);
    }

    [Fact]
    public void A_phone_after_twenty_thousand_space_separated_numbers_is_read_in_one_pass()
    {
        // Each place a reading can start is tried with at most 15 ends: linear in the run, which a space cuts everywhere.
        var text = string.Join(' ', Enumerable.Repeat("2025", 20_000)) + " 020 7946 0958";
        var redacted = Phones.Apply(text).Text;

        Assert.DoesNotContain("7946", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("0958", redacted, StringComparison.Ordinal);
        Assert.StartsWith("2025 2025", redacted, StringComparison.Ordinal); // the years no reading holds stay
    }

    private static string Show(string text) => Regex.Replace(text, @"[^\x20-\x7e]", m => $"\\u{(int)m.Value[0]:x4}");

    [GeneratedRegex("[0-9]+")]
    private static partial Regex DigitGroup();
}

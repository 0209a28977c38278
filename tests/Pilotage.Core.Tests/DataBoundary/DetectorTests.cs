using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>Each built-in detector alone: what it finds and, as much, what it must leave alone.</summary>
public class DetectorTests
{
    private static DataBoundaryPolicy Redacting(params string[] detectors) =>
        DataBoundaryPolicy.From(new DataBoundarySpec { Redact = detectors });

    /// <summary>The found substrings, in order (test-only: production results never carry them).</summary>
    private static string[] Found(DataBoundaryPolicy policy, string text) =>
        policy.Apply(text).Hits.Select(h => text.Substring(h.Start, h.Length)).ToArray();

    [Theory]
    [InlineData("4111 1111 1111 1111")]
    [InlineData("4111-1111-1111-1111")]
    [InlineData("4111111111111111")]
    [InlineData("5500 0000 0000 0004")]
    [InlineData("3782 822463 10005")] // Amex, 4-6-5
    [InlineData("4222222222222")] // 13 digits
    public void Luhn_valid_card_numbers_are_found(string card) =>
        Assert.Equal([card], Found(Redacting("credit_card"), $"pay with {card}, thanks"));

    [Theory]
    [InlineData("4111 1111 1111 1112")]
    [InlineData("4111111111111112")]
    [InlineData("1234 5678 9012 3456")]
    public void Numbers_failing_luhn_are_not_cards(string number) =>
        Assert.Empty(Found(Redacting("credit_card"), $"number {number} here"));

    [Theory]
    [InlineData("41111111111111119999")] // 20 digits: the card is part of a longer run
    [InlineData("order 94111111111111111")]
    [InlineData("2026-11-25 2026-11-26")] // mixed separators, short groups
    [InlineData("10 20 30 40 50 60 70")] // a row of small numbers
    [InlineData("4111 1111 1111 111")] // 15 digits, fails Luhn
    public void Other_digit_runs_are_not_cards(string text) =>
        Assert.Empty(Found(Redacting("credit_card"), text));

    [Fact]
    public void The_card_is_cut_out_of_a_run_of_other_groups()
    {
        Assert.Equal(["4111 1111 1111 1111"], Found(Redacting("credit_card"), "ref 12 4111 1111 1111 1111 exp 1227"));
        Assert.Equal(["4111111111111111", "5500 0000 0000 0004"],
            Found(Redacting("credit_card"), "4111111111111111 and 5500 0000 0000 0004"));
    }

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 32")]
    [InlineData("GB82WEST12345698765432")]
    [InlineData("gb82 west 1234 5698 7654 32")]
    [InlineData("DE89 3704 0044 0532 0130 00")]
    [InlineData("DE89370400440532013000")]
    [InlineData("NL91ABNA0417164300")]
    [InlineData("FR14 2004 1010 0505 0001 3M02 606")]
    [InlineData("XK05 1212 0123 4567 8906")] // a country outside the length table: mod-97 alone
    public void Valid_ibans_are_found(string iban) =>
        Assert.Equal([iban], Found(Redacting("iban"), $"account: {iban}."));

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 33")] // one digit changed
    [InlineData("GB83 WEST 1234 5698 7654 32")] // check digits changed
    [InlineData("DE89 3704 0044 0532 0130 01")]
    [InlineData("GB82 WEST 1234 5698 7654 3")] // right checksum shape, wrong length for GB
    [InlineData("AB12 CDEF GHIJ KLMN")]
    public void Invalid_ibans_are_not_found(string text) =>
        Assert.Empty(Found(Redacting("iban"), text));

    [Fact]
    public void A_grouped_iban_followed_by_a_short_word_is_still_found() =>
        Assert.Equal(["ES91 2100 0418 4502 0005 1332"], Found(Redacting("iban"), "ES91 2100 0418 4502 0005 1332 for rent"));

    [Theory]
    [InlineData("dana@example.org")]
    [InlineData("first.last+tag@mail.example.co.uk")]
    [InlineData("o'brien@example.ie")]
    [InlineData("josé@exemple.fr")]
    public void Emails_are_found(string email) =>
        Assert.Equal([email], Found(Redacting("email"), $"write to <{email}>, please"));

    [Theory]
    [InlineData("@dana on chat")]
    [InlineData("user@localhost")]
    [InlineData("a@b.c")]
    [InlineData("price 5@3.50")]
    public void Things_with_an_at_sign_are_not_all_emails(string text) =>
        Assert.Empty(Found(Redacting("email"), text));

    [Theory]
    [InlineData("+44 20 7946 0958")]
    [InlineData("+44 (0)20 7946 0958")]
    [InlineData("+1-555-123-4567")]
    [InlineData("+4915112345678")]
    [InlineData("(555) 123-4567")]
    [InlineData("555.123.4567")]
    [InlineData("020 7946 0958")]
    [InlineData("06 12 34 56 78")]
    [InlineData("5551234567")]
    public void Phones_are_found(string phone) =>
        Assert.Equal([phone], Found(Redacting("phone"), $"call {phone} today"));

    [Theory]
    [InlineData("2026-11-25")]
    [InlineData("25.11.2026")]
    [InlineData("11-25-2026")]
    [InlineData("in 1999")]
    [InlineData("from 2020-2026")]
    [InlineData("1 000 000 EUR")]
    [InlineData("pi is 3.14159265")]
    [InlineData("host 192.168.100.200")]
    [InlineData("order 1234567")]
    [InlineData("version 1.2.3")]
    [InlineData("at 2026-11-25 10:30")]
    public void Dates_years_and_other_numbers_are_not_phones(string text) =>
        Assert.Empty(Found(Redacting("phone"), text));

    [Fact]
    public void A_date_next_to_a_phone_does_not_hide_it() =>
        Assert.Equal(["020 7946 0958"], Found(Redacting("phone"), "2026-11-25 020 7946 0958"));

    [Fact]
    public void Numbers_run_together_with_spaces_are_taken_apart()
    {
        Assert.Equal(["020 7946 0958", "020 7946 0959"], Found(Redacting("phone"), "tel 020 7946 0958 020 7946 0959"));
        Assert.Equal(["+44 20 7946 0958", "4111 1111 1111 1111"],
            Found(Redacting("phone", "credit_card"), "+44 20 7946 0958 4111 1111 1111 1111"));
    }
}

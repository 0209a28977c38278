namespace Pilotage.Core.Specs;

/// <summary>
/// The data boundary's built-in detectors as a spec names them. Specs validate against this list and the
/// boundary builds its detectors from it, so the names live here, below both.
/// </summary>
public static class DetectorNames
{
    public const string CreditCard = "credit_card";
    public const string Iban = "iban";
    public const string Email = "email";
    public const string Phone = "phone";
    public const string Secret = "secret";
    public const string UsSsn = "us_ssn";
    public const string UkNino = "uk_nino";
    public const string EuVat = "eu_vat";

    /// <summary>Every built-in name; this order (most specific first) breaks ties between overlapping hits.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = [Secret, CreditCard, Iban, EuVat, UsSsn, UkNino, Email, Phone];
}

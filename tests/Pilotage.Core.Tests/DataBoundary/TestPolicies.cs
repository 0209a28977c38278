using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>The policies the boundary's property tests share: built once, immutable, safe to share across tests.</summary>
internal static class TestPolicies
{
    /// <summary>The gateway bench's boundary: the checksummed detectors and secrets block, e-mail and phone redact.</summary>
    public static DataBoundaryPolicy Mixed { get; } = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
        Redact = ["email", "phone"],
    });

    /// <summary>As <see cref="Mixed"/>, with answers redacted too.</summary>
    public static DataBoundaryPolicy MixedWithAnswers { get; } = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
        Redact = ["email", "phone"],
        Answers = AnswerBoundaryMode.Redact,
    });

    /// <summary>E-mail and a declared pattern (<c>ticket</c>, TCK and three letters) redacted, answers too: a policy that always scans.</summary>
    public static DataBoundaryPolicy WithCustom { get; } = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = ["email", "ticket"],
        Detectors = [new CustomDetectorSpec { Name = "ticket", Pattern = "TCK[a-z]{3}" }],
        Answers = AnswerBoundaryMode.Redact,
    });
}

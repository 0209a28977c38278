using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.Fuzz;

/// <summary>Upstream secrets are referenced by environment variable name only: a literal one is refused, without being echoed.</summary>
public class SpecSecretTests
{
    [Theory]
    [InlineData("    apiKey: sk-live-abcdef0123456789", "spec.upstream.apiKey", "apiKeyEnv: OPENAI_API_KEY")]
    [InlineData("    api_key: sk-live-abcdef0123456789", "spec.upstream.api_key", "apiKeyEnv: OPENAI_API_KEY")]
    [InlineData("    token: sk-live-abcdef0123456789", "spec.upstream.token", "never holds a secret")]
    [InlineData("    apiKeyEnv: sk-live-abcdef0123456789", "spec.upstream.apiKeyEnv", "such as OPENAI_API_KEY")]
    [InlineData("    apiKeyEnv: sk_live_abcdef0123456789", "spec.upstream.apiKeyEnv", "never put the key itself in a spec")]
    [InlineData("    apiKeyEnv: AbCdEf0123456789GhIjKlMnOp", "spec.upstream.apiKeyEnv", "never put the key itself in a spec")]
    public void A_literal_upstream_secret_is_refused_with_how_to_reference_it(string line, string path, string hint)
    {
        var result = SpecReader.Read(SpecYaml.With(line), "spec.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdef0123456789", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://user:s3cr3t-abcdef0123456789@api.example.org/v1", "a user name or password")]
    [InlineData("https://api.example.org/v1?api-key=abcdef0123456789", "'api-key'")]
    [InlineData("https://api.example.org/v1?key=abcdef0123456789&x=1", "'key'")]
    public void A_base_url_with_a_credential_is_refused_without_echoing_it(string url, string what)
    {
        var result = SpecReader.Read(SpecYaml.Replacing(9, $"    baseUrl: {url}"), "spec.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal("spec.upstream.baseUrl", error.Path);
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
        Assert.Contains("apiKeyEnv", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdef0123456789", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    apiKeyEnv: OPENAI_API_KEY")]
    [InlineData("    apiKeyEnv: MISTRAL_KEY_PROD2")]
    public void A_reference_to_an_environment_variable_is_accepted(string line)
    {
        var result = SpecReader.Read(SpecYaml.With(line), "spec.yaml");
        Assert.True(result.Ok, string.Join("; ", result.Errors));
        Assert.Equal(line.Split(": ")[1], result.Specs[0].Upstream.ApiKeyEnv);
    }

    [Fact]
    public void Azure_style_api_version_query_is_not_mistaken_for_a_secret()
    {
        var result = SpecReader.Read(SpecYaml.Replacing(9, "    baseUrl: https://x.openai.azure.com/openai/v1?api-version=2025-01-01"), "spec.yaml");
        Assert.True(result.Ok, string.Join("; ", result.Errors));
    }
}

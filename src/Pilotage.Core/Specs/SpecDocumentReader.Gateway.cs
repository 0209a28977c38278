using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Pilotage.Core.Specs;

/// <summary>The gateway's settings of a spec: the upstream's protocol and how approval mode holds answers.</summary>
internal sealed partial class SpecDocumentReader
{
    private static readonly ImmutableArray<string> ApprovalKeys = ["wait"];

    /// <summary>The longest a request is held open for a reviewer: beyond it, clients and proxies give up anyway.</summary>
    public static readonly TimeSpan MaxApprovalWait = TimeSpan.FromMinutes(15);

    [GeneratedRegex("^([1-9][0-9]{0,4})(s|m)$", RegexOptions.CultureInvariant)]
    private static partial Regex WaitPattern();

    private UpstreamSpec? ReadUpstream(YNode node, string path)
    {
        if (MapOf(node, path, UpstreamKeys) is not { } map)
        {
            return null;
        }
        var baseUrl = RequiredText(map, "baseUrl");
        if (baseUrl is not null
            && !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            Error(map.Child("baseUrl"), $"baseUrl must be an absolute http(s) URL such as http://127.0.0.1:11434/v1, found '{baseUrl}'", map.Get("baseUrl")!);
        }
        else if (baseUrl is not null && Uri.TryCreate(baseUrl, UriKind.Absolute, out var parsed) && CredentialsIn(parsed) is { } credential)
        {
            // The value is not repeated in the message: it holds a secret.
            Error(map.Child("baseUrl"),
                $"baseUrl carries a credential ({credential}); a spec never holds a secret. Remove it, put the key in an environment variable of the server and name that variable with apiKeyEnv",
                map.Get("baseUrl")!);
        }
        var model = RequiredText(map, "model");
        var apiKeyEnv = Text(map, "apiKeyEnv");
        if (apiKeyEnv is not null && (!EnvName().IsMatch(apiKeyEnv) || LooksLikeKey(apiKeyEnv)))
        {
            Error(map.Child("apiKeyEnv"),
                "apiKeyEnv is the name of an environment variable (letters, digits, '_'), such as OPENAI_API_KEY; never put the key itself in a spec",
                map.Get("apiKeyEnv")!);
        }
        var priceIn = Decimal(map, "pricePer1kInput", 0m);
        var priceOut = Decimal(map, "pricePer1kOutput", 0m);
        var firstByteTimeout = Int(map, "firstByteTimeoutSeconds", 1);
        var timeout = Int(map, "timeoutSeconds", 1);
        var protocol = ReadProtocol(map);
        return baseUrl is null || model is null
            ? null
            : new UpstreamSpec
            {
                BaseUrl = baseUrl,
                Protocol = protocol,
                Model = model,
                ApiKeyEnv = apiKeyEnv,
                PricePer1kInput = priceIn ?? 0m,
                PricePer1kOutput = priceOut ?? 0m,
                FirstByteTimeoutSeconds = firstByteTimeout,
                TimeoutSeconds = timeout,
            };
    }

    private UpstreamProtocol ReadProtocol(Map map)
    {
        if (Text(map, "protocol") is not { } text) return UpstreamProtocol.OpenAiChat;
        if (!UpstreamProtocolWire.TryParse(text, out var protocol))
        {
            Error(map.Child("protocol"),
                $"unknown upstream protocol '{text}': allowed values are {string.Join(", ", UpstreamProtocolWire.Names)} (the API the upstream at baseUrl speaks; openai-chat when omitted)",
                map.Get("protocol")!);
            return UpstreamProtocol.OpenAiChat;
        }
        return protocol;
    }

    /// <summary><c>approval: { wait: 30s }</c> beside <c>mode: approval</c>.</summary>
    private ApprovalSpec? ReadApproval(Map map, ServingMode mode)
    {
        if (map.Get("approval") is not { } node) return null;
        var path = map.Child("approval");
        if (mode != ServingMode.Approval)
        {
            Error(path, $"'approval' sets how answers are held for review, so it needs 'mode: approval' (this mode is {SpecEnum.ToName(mode)}); remove it or set the mode", node);
            return null;
        }
        if (MapOf(node, path, ApprovalKeys) is not { } approval) return null;
        if (Text(approval, "wait") is not { } text) return new ApprovalSpec();
        var match = WaitPattern().Match(text);
        var wait = !match.Success ? (TimeSpan?)null
            : match.Groups[2].Value == "s" ? TimeSpan.FromSeconds(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture))
            : TimeSpan.FromMinutes(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        if (wait is null || wait > MaxApprovalWait)
        {
            Error(approval.Child("wait"),
                $"invalid wait '{text}': write how long the gateway holds a request open for the reviewer, in seconds or minutes such as 30s or 2m, at most {MaxApprovalWait.TotalMinutes:0}m",
                approval.Get("wait")!);
            return null;
        }
        return new ApprovalSpec { Wait = wait };
    }
}

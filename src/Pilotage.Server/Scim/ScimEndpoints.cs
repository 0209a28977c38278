namespace Pilotage.Server.Scim;

/// <summary>
/// SCIM 2.0 provisioning under <c>/scim/v2</c> (docs/identity.md): Users, Groups and the discovery documents, all
/// behind the provisioning client's token (<see cref="ScimToken"/>) and answered in <c>application/scim+json</c>.
/// </summary>
public static class ScimEndpoints
{
    public static void MapScim(this IEndpointRouteBuilder app)
    {
        var scim = app.MapGroup("/scim/v2").AddEndpointFilter<ScimEndpointFilter>().ExcludeFromDescription();
        ScimUsers.Map(scim);
        ScimGroups.Map(scim);
        scim.MapGet("/ServiceProviderConfig", () => Document(ServiceProviderConfig));
        scim.MapGet("/ResourceTypes", () => Document(ResourceTypes));
        scim.MapGet("/Schemas", () => Document(Schemas));
    }

    public static IServiceCollection AddScim(this IServiceCollection services, string? token)
    {
        services.AddSingleton(new ScimToken(token));
        services.AddSingleton<ScimUsers>();
        services.AddSingleton<ScimGroups>();
        return services;
    }

    private static IResult Document(string json) => Results.Text(json, ScimSchemas.ContentType);

    private const string ServiceProviderConfig = """
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
         "patch":{"supported":true},
         "bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0},
         "filter":{"supported":true,"maxResults":1000},
         "changePassword":{"supported":false},
         "sort":{"supported":false},
         "etag":{"supported":false},
         "authenticationSchemes":[{"type":"oauthbearertoken","name":"Bearer token","description":"The token the operator set in PILOTAGE_SCIM_TOKEN","primary":true}],
         "meta":{"resourceType":"ServiceProviderConfig","location":"/scim/v2/ServiceProviderConfig"}}
        """;

    private const string ResourceTypes = """
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"startIndex":1,"itemsPerPage":2,
         "Resources":[
          {"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"id":"User","name":"User","endpoint":"/Users",
           "schema":"urn:ietf:params:scim:schemas:core:2.0:User","meta":{"resourceType":"ResourceType","location":"/scim/v2/ResourceTypes/User"}},
          {"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"id":"Group","name":"Group","endpoint":"/Groups",
           "schema":"urn:ietf:params:scim:schemas:core:2.0:Group","meta":{"resourceType":"ResourceType","location":"/scim/v2/ResourceTypes/Group"}}]}
        """;

    private const string Schemas = """
        {"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"startIndex":1,"itemsPerPage":2,
         "Resources":[
          {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],"id":"urn:ietf:params:scim:schemas:core:2.0:User","name":"User",
           "attributes":[
            {"name":"userName","type":"string","multiValued":false,"required":true,"caseExact":false,"mutability":"immutable","returned":"default","uniqueness":"server"},
            {"name":"externalId","type":"string","multiValued":false,"required":false,"caseExact":true,"mutability":"readWrite","returned":"default","uniqueness":"none"},
            {"name":"displayName","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"readWrite","returned":"default","uniqueness":"none"},
            {"name":"name","type":"complex","multiValued":false,"required":false,"mutability":"readWrite","returned":"default",
             "subAttributes":[{"name":"formatted","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"readWrite","returned":"default","uniqueness":"none"}]},
            {"name":"emails","type":"complex","multiValued":true,"required":false,"mutability":"readOnly","returned":"default",
             "subAttributes":[{"name":"value","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"readOnly","returned":"default","uniqueness":"none"}]},
            {"name":"active","type":"boolean","multiValued":false,"required":false,"mutability":"readWrite","returned":"default"},
            {"name":"groups","type":"complex","multiValued":true,"required":false,"mutability":"readOnly","returned":"default",
             "subAttributes":[{"name":"value","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"readOnly","returned":"default","uniqueness":"none"}]}],
           "meta":{"resourceType":"Schema","location":"/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"}},
          {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],"id":"urn:ietf:params:scim:schemas:core:2.0:Group","name":"Group",
           "attributes":[
            {"name":"displayName","type":"string","multiValued":false,"required":true,"caseExact":false,"mutability":"readWrite","returned":"default","uniqueness":"server"},
            {"name":"externalId","type":"string","multiValued":false,"required":false,"caseExact":true,"mutability":"readWrite","returned":"default","uniqueness":"none"},
            {"name":"members","type":"complex","multiValued":true,"required":false,"mutability":"readWrite","returned":"default",
             "subAttributes":[{"name":"value","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"immutable","returned":"default","uniqueness":"none"}]}],
           "meta":{"resourceType":"Schema","location":"/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"}}]}
        """;
}

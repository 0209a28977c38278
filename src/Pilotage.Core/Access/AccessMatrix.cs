namespace Pilotage.Core.Access;

/// <summary>What a control API caller asks to do. Each endpoint declares exactly one.</summary>
public enum Permission
{
    /// <summary>Who am I: every signed-in person.</summary>
    Self,
    SystemsRead,
    /// <summary>Apply and diff specs; owners only for systems they own.</summary>
    SystemsWrite,
    /// <summary>Record decisions, pause and resume; owners only for systems they own.</summary>
    SystemsOperate,
    /// <summary>Release or reject held answers; reviewers only for the systems they review.</summary>
    Review,
    UsersRead,
    UsersManage,
    GroupsRead,
    GroupsManage,
    /// <summary>See every key (not their secrets).</summary>
    KeysReadAll,
    /// <summary>Create and revoke keys for anybody.</summary>
    KeysManageAll,
    /// <summary>Create, list and revoke one's own keys.</summary>
    KeysOwn,
    AuditRead,
    /// <summary>See the incidents of the systems one may read (<see cref="SystemAccess"/>); without it, only the ones a person filed or is assigned.</summary>
    IncidentsReadAll,
    /// <summary>Place and release legal holds that stop content from being purged.</summary>
    LegalHold,
}

/// <summary>The role matrix of design.md, in one place, so every endpoint and page asks the same question.</summary>
public static class AccessMatrix
{
    public static bool Allows(Role role, Permission permission) => permission switch
    {
        Permission.Self or Permission.KeysOwn => true,
        Permission.SystemsRead or Permission.IncidentsReadAll => role is Role.Admin or Role.Owner or Role.Reviewer or Role.Auditor,
        Permission.SystemsWrite or Permission.SystemsOperate => role is Role.Admin or Role.Owner,
        Permission.Review => role is Role.Admin or Role.Owner or Role.Reviewer,
        Permission.UsersRead => role is Role.Admin or Role.Auditor,
        Permission.GroupsRead => role is Role.Admin or Role.Auditor or Role.Owner,
        Permission.KeysReadAll or Permission.AuditRead or Permission.LegalHold => role is Role.Admin or Role.Auditor,
        Permission.UsersManage or Permission.GroupsManage or Permission.KeysManageAll => role is Role.Admin,
        _ => false,
    };
}

#!/usr/bin/env python3
"""Writes synthetic district exports for measuring `tenet import` at scale.

    python3 scripts/gen-exports.py --users 1000000 --out /tmp/district-1m
    /usr/bin/time -v target/release/tenet import --from /tmp/district-1m --out /tmp/district-1m-out

The district: one teacher per 15 students, two guardians per student (so 1,000,000 users give
about 1.87 million guardian rows), 1,000 groups (50 per Graph page file), a Global and five custom instances of each
policy type, group assignments and a direct assignment for one user in fifty. Files:
Get-CsOnlineUser.json (PowerShell 7 shape), Graph groups pages of 999 groups, SDS v2.1 CSV
(orgs, users, roles, classes, enrollments, relationships), the policy and configuration exports,
the app catalog and the apps' ids (Get-TeamsApp). Guardian
contact details are fictional (example.com, +1 425 555 01xx-shaped numbers).
"""

import argparse
import json
import os
import random

TYPES = ["ExternalAccessPolicy", "TeamsMessagingPolicy", "TeamsMeetingPolicy", "TeamsCallingPolicy"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    n = a.users
    teachers = max(1, n // 16)
    upn = lambda i: f"user{i:07d}@district.edu"
    is_teacher = lambda i: i < teachers
    groups = 1000
    gid = lambda g: f"00000000-0000-4000-8000-{g:012d}"

    # Policies: Global + five custom instances per type.
    for t in TYPES:
        objs = [{"Identity": "Global"}] + [{"Identity": f"Tag:P{k}"} for k in range(5)]
        for o in objs:
            if t == "ExternalAccessPolicy":
                o.update(EnableTeamsConsumerAccess=rnd.random() < 0.8, EnableTeamsConsumerInbound=rnd.random() < 0.7)
            elif t == "TeamsMessagingPolicy":
                o.update(AllowUserChat=rnd.random() < 0.9, AllowRemoveUser=True, ChatPermissionRole="Full")
            elif t == "TeamsMeetingPolicy":
                o.update(AllowPrivateMeetingScheduling=True, AllowAnonymousUsersToJoinMeeting=rnd.random() < 0.8)
            else:
                o.update(AllowPrivateCalling=rnd.random() < 0.8, AllowWebPSTNCalling=True)
        with open(os.path.join(a.out, f"Cs{t}.json"), "w") as f:
            json.dump(objs, f, indent=2)
    # Tenant settings, the app permission policy, the app catalog and the apps' ids: every export
    # an import requires (small, the same for every size).
    configs = {
        "TenantFederationConfiguration": {"AllowTeamsConsumer": True, "AllowTeamsConsumerInbound": True,
                                          "AllowFederatedUsers": True, "AllowPublicUsers": False},
        "TeamsEducationConfiguration": {"ParentGuardianPreferredContactMethod": "Email",
                                        "UpdateParentInformation": "Enabled"},
        "PrivacyConfiguration": {"EnablePrivacyMode": False, "AutoInitiateContacts": True},
        "TeamsMeetingConfiguration": {"DisableAnonymousJoin": False, "EnableQoS": False},
        "TeamsClientConfiguration": {"AllowRoleBasedChatPermissions": False, "AllowDropBox": True,
                                     "AllowGuestUser": True},
    }
    for name, values in configs.items():
        with open(os.path.join(a.out, f"Cs{name}.json"), "w") as f:
            json.dump({"Identity": "Global", **values}, f, indent=2)
    parents, approvals = "6f1e7c2a-8d3b-4f5e-9a1c-2b3d4e5f6a71", "7c316234-ded0-4f95-8a83-8453d0876592"
    with open(os.path.join(a.out, "CsTeamsAppPermissionPolicy.json"), "w") as f:
        json.dump([{"Identity": "Global", "DefaultCatalogAppsType": "BlockedAppList", "DefaultCatalogApps": [],
                    "GlobalCatalogAppsType": "BlockedAppList", "GlobalCatalogApps": [],
                    "PrivateCatalogAppsType": "BlockedAppList", "PrivateCatalogApps": []}], f, indent=2)
    everyone = {"AssignmentType": "Everyone", "Users": [], "Groups": []}
    with open(os.path.join(a.out, "AllM365TeamsApps.json"), "w") as f:
        json.dump([{"Id": app, "IsBlocked": "Unblocked", "AvailableTo": everyone,
                    "InstalledFor": {"AppInstallType": "Everyone"}} for app in (parents, approvals)], f, indent=2)
    with open(os.path.join(a.out, "TeamsApp.json"), "w") as f:
        json.dump([{"Id": parents, "ExternalId": None, "DisplayName": "Parents", "DistributionMethod": "store"},
                   {"Id": approvals, "ExternalId": None, "DisplayName": "Approvals", "DistributionMethod": "store"}],
                  f, indent=2)

    assignments = []
    for t in TYPES:
        for r, g in enumerate(rnd.sample(range(groups), 20)):
            assignments.append({"GroupId": gid(g), "PolicyType": t, "PolicyName": f"P{r % 5}", "Rank": r + 1})
    with open(os.path.join(a.out, "CsGroupPolicyAssignment.json"), "w") as f:
        json.dump(assignments, f, indent=2)

    # Users, streamed.
    with open(os.path.join(a.out, "CsOnlineUser.json"), "w") as f:
        f.write("[\n")
        for i in range(n):
            u = {"UserPrincipalName": upn(i), "DisplayName": f"User {i}", "AccountEnabled": rnd.random() > 0.01,
                 "FeatureTypes": ["Teams", "AudioConferencing", "PhoneSystem"] if is_teacher(i) and rnd.random() < 0.3 else ["Teams"],
                 "LineUri": None, "SipAddress": "sip:" + upn(i), "UsageLocation": "US"}
            for t in TYPES:
                u[t] = f"P{rnd.randrange(5)}" if rnd.random() < 0.02 else None
            f.write(("," if i else "") + json.dumps(u) + "\n")
        f.write("]\n")

    # Graph groups: random members, 50 groups per page file (Graph's $expand returns 20 members at
    # most, so a real export pages each large group's members and stays small per file).
    members = [[] for _ in range(groups)]
    for i in range(n):
        for g in rnd.sample(range(groups), 2):
            members[g].append(i)
    per_page = 50
    for page in range(0, groups, per_page):
        value = [{"id": gid(g), "displayName": f"Group {g}",
                  "members": [{"@odata.type": "#microsoft.graph.user", "userPrincipalName": upn(i)} for i in members[g]]}
                 for g in range(page, min(groups, page + per_page))]
        doc = {"value": value}
        if page + per_page < groups:
            doc["@odata.nextLink"] = "https://graph.microsoft.com/v1.0/groups?$expand=members&$skiptoken=x"
        page_no = page // per_page + 1
        with open(os.path.join(a.out, "groups.json" if page_no == 1 else f"groups-{page_no}.json"), "w") as f:
            json.dump(doc, f)

    # SDS v2.1.
    with open(os.path.join(a.out, "orgs.csv"), "w") as f:
        f.write("sourcedId,name,type\ns1,District School,school\n")
    with open(os.path.join(a.out, "users.csv"), "w") as users, open(os.path.join(a.out, "roles.csv"), "w") as roles, \
         open(os.path.join(a.out, "relationships.csv"), "w") as rel:
        users.write("sourcedId,username,givenName,familyName,email,phone,sms\n")
        roles.write("userSourcedId,orgSourcedId,role,roleType\n")
        rel.write("userSourcedId,relationshipUserSourcedId,relationshipRole\n")
        for i in range(n):
            users.write(f"u{i},{upn(i)},User,{i},,,\n")
            roles.write(f"u{i},s1,{'teacher' if is_teacher(i) else 'student'},primary\n")
            if not is_teacher(i):
                for k in range(2):
                    g = f"g{i}-{k}"
                    phone = f"+1425555{rnd.randrange(10000):04d}" if rnd.random() < 0.8 else f"(425) 555-{rnd.randrange(10000):04d}"
                    users.write(f"{g},guardian{i}-{k}@example.com,Guardian,{i}-{k},guardian{i}-{k}@example.com,{phone},\n")
                    rel.write(f"u{i},{g},{'parent' if rnd.random() < 0.95 else 'relative'}\n")
    with open(os.path.join(a.out, "classes.csv"), "w") as c, open(os.path.join(a.out, "enrollments.csv"), "w") as e:
        c.write("sourcedId,orgSourcedId,title\n")
        e.write("classSourcedId,userSourcedId,role\n")
        for t in range(teachers):
            c.write(f"c{t},s1,Class {t}\n")
            e.write(f"c{t},u{t},teacher\n")
        for i in range(teachers, n):
            e.write(f"c{rnd.randrange(teachers)},u{i},student\n")


if __name__ == "__main__":
    main()

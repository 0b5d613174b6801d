//! Policy instances (Global, custom, locked) and their assignments to users and groups.

use super::Cx;
use super::schema::setting_values;
use crate::ast::{self, Item, Target};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{GroupAssignment, Instance};

/// `Tag:Name` and `Name` are one identity.
fn bare(identity: &str) -> &str {
    identity.strip_prefix("Tag:").unwrap_or(identity).trim()
}

/// The key of an identity: Teams compares identities without regard to case.
fn key(identity: &str) -> String {
    crate::directory::key(bare(identity))
}

pub(super) fn instances(cx: &mut Cx, files: &[ast::File]) {
    for def in files.iter().flat_map(|f| &f.items).filter_map(|i| match i {
        Item::Instance(d) => Some(d),
        _ => None,
    }) {
        instance(cx, def);
    }
    // Every type has a Global instance; one no file wrote takes the type's defaults.
    for ptype in cx.model.policy_types.values_mut() {
        let global = match ptype.instances.get_index_of("global") {
            Some(i) => i,
            None => {
                let n = ptype.schema.settings.len();
                ptype.instances.insert(
                    "global".into(),
                    Instance { name: "Global".into(), locked: false, values: vec![None; n], span: None },
                );
                ptype.instances.len() - 1
            }
        };
        ptype.global = global;
    }
}

fn instance(cx: &mut Cx, def: &ast::InstanceDef) {
    let type_name = &def.policy_type.name;
    let Some(ptype) = cx.model.policy_types.get(type_name) else {
        let names: Vec<String> = cx.model.policy_types.keys().cloned().collect();
        let hint = if cx.model.configs.contains_key(type_name) {
            format!("`{type_name}` is a configuration: write `tenant {type_name} {{ ... }}`")
        } else {
            "declare it with `policy type Name { ... }`".to_string()
        };
        cx.unknown(
            Code::UnknownType,
            "policy type",
            type_name,
            def.policy_type.span,
            names.iter().map(String::as_str),
            &hint,
        );
        return;
    };
    let mut name = bare(&def.identity.name).to_string();
    if name.eq_ignore_ascii_case("global") {
        name = "Global".into();
    }
    if name.is_empty() {
        cx.push(
            Diagnostic::error(Code::InvalidLiteral, "a policy instance needs a name")
                .at(def.identity.span, "empty name")
                .help("write `\"Global\"` or a custom name such as `\"Teachers\"`"),
        );
        return;
    }
    if let Some(first) = ptype.instances.get(&key(&name)) {
        let (first_span, first_locked) = (first.span, first.locked);
        let label = format!("{type_name} `{}`", first.identity());
        match (first_locked, def.locked.is_some()) {
            (false, false) => {
                cx.duplicate("policy instance", &format!("{type_name} \"{name}\""), def.identity.span, first_span)
            }
            // Whichever comes first in load order, point at the modification and at the lock
            // (a second `locked` definition modifies the first).
            (first_is_lock, _) => {
                let (modified, lock) = if first_is_lock {
                    (Some(def.identity.span), first_span)
                } else {
                    (first_span, Some(def.identity.span))
                };
                let mut d = Diagnostic::error(
                    Code::LockedInstance,
                    format!("{label} is a locked subscription default and can't be modified"),
                );
                if let Some(m) = modified {
                    d = d.at(m, "modified here");
                }
                if let Some(l) = lock {
                    d = d.also(l, "locked here");
                }
                cx.push(d.help(format!(
                    "create a custom instance instead (`policy {type_name} \"MyPolicy\" {{ ... }}`) and assign it to the users who hold `{name}`"
                )));
            }
        }
        return;
    }
    let schema = ptype.schema.clone();
    let owner = format!("{type_name} \"{name}\"");
    let resolved = setting_values(cx, &schema, &owner, &def.values);
    let mut values = vec![None; schema.settings.len()];
    for (idx, value, span) in resolved {
        values[idx] = Some((value, span));
    }
    if let Some(ptype) = cx.model.policy_types.get_mut(type_name) {
        ptype
            .instances
            .insert(key(&name), Instance { name, locked: def.locked.is_some(), values, span: Some(def.identity.span) });
    }
}

pub(super) fn assignments(cx: &mut Cx, files: &[ast::File]) {
    for a in files.iter().flat_map(|f| &f.items).filter_map(|i| match i {
        Item::Assignment(a) => Some(a),
        _ => None,
    }) {
        assignment(cx, a);
    }
    for ptype in cx.model.policy_types.values_mut() {
        // Stable: unranked assignments keep their file order.
        ptype.groups.sort_by_key(GroupAssignment::precedence);
    }
}

fn assignment(cx: &mut Cx, a: &ast::Assignment) {
    let type_name = &a.policy_type.name;
    let Some(ptype) = cx.model.policy_types.get(type_name) else {
        let names: Vec<String> = cx.model.policy_types.keys().cloned().collect();
        cx.unknown(
            Code::UnknownType,
            "policy type",
            type_name,
            a.policy_type.span,
            names.iter().map(String::as_str),
            "declare it with `policy type Name { ... }`",
        );
        return;
    };
    let name = bare(&a.identity.name);
    let Some(instance) = ptype.instances.get_index_of(&key(name)) else {
        let names: Vec<String> = ptype.instances.values().map(|i| i.name.clone()).collect();
        let what = format!("instance of `{type_name}`");
        let elsewhere = cx
            .model
            .policy_types
            .values()
            .find(|t| t.instances.contains_key(&key(name)))
            .map(|t| format!("`{name}` is an instance of `{}`, not of `{type_name}`", t.schema.name));
        let fallback = elsewhere.unwrap_or_else(|| format!("define it with `policy {type_name} \"{name}\" {{ ... }}`"));
        cx.unknown(Code::UnknownInstance, &what, name, a.identity.span, names.iter().map(String::as_str), &fallback);
        return;
    };
    if key(name) == "global" {
        cx.push(
            Diagnostic::error(
                Code::UnknownInstance,
                "`Global` can't be assigned: it applies to everyone without an assignment",
            )
            .at(a.identity.span, "not assignable")
            .help("remove this assignment; users without one already get `Global`"),
        );
        return;
    }
    match &a.target {
        Target::User(upn) => user_assignment(cx, type_name, instance, upn),
        Target::Group { group, rank } => group_assignment(cx, a, type_name, instance, group, *rank),
    }
}

fn user_assignment(cx: &mut Cx, type_name: &str, instance: usize, upn: &ast::Ident) {
    let Some((user, _)) = cx.model.directory.user(&upn.name) else {
        let suggestion = cx.model.directory.suggest_user(&upn.name).map(str::to_string);
        cx.unknown(
            Code::UnknownUser,
            "user",
            &upn.name,
            upn.span,
            suggestion.as_deref(),
            "add the user to the directory file",
        );
        return;
    };
    let Some(ptype) = cx.model.policy_types.get_mut(type_name) else { return };
    if let Some((_, first)) = ptype.direct.get(&user) {
        let first = *first;
        cx.push(
            Diagnostic::error(Code::Duplicate, format!("`{}` has two direct `{type_name}` assignments", upn.name))
                .at(upn.span, "assigned again here")
                .also(first, "first assigned here")
                .help("a user holds one instance of each policy type: remove one assignment"),
        );
        return;
    }
    ptype.direct.insert(user, (instance, upn.span));
}

fn group_assignment(
    cx: &mut Cx,
    a: &ast::Assignment,
    type_name: &str,
    instance: usize,
    group: &ast::Ident,
    rank: Option<(i64, crate::source::Span)>,
) {
    let dir = &cx.model.directory;
    let Some(ptype) = cx.model.policy_types.get(type_name) else { return };
    if ptype.direct_only {
        let type_span = ptype.schema.span;
        cx.push(
            Diagnostic::error(Code::GroupAssignmentNotAllowed, format!("`{type_name}` can't be assigned to groups"))
                .at(a.span, "group assignment")
                .also(type_span, "declared `direct only` here")
                .help(format!("assign it to each user: `assign {type_name} \"{}\" to user \"...\"`", a.identity.name)),
        );
        return;
    }
    let key = crate::directory::key(&group.name);
    if let Some((_, team)) = dir.class_team(&key) {
        let team_span = dir.class_team_span(team);
        cx.push(
            Diagnostic::error(
                Code::HiddenMembershipGroup,
                format!("`{}` is a class team, which can't take policy assignments", group.name),
            )
            .at(group.span, "class team")
            .also(team_span, "class team defined here")
            .help(
                "class teams have hidden membership in Teams; assign the policy to a security group of the same people",
            ),
        );
        return;
    }
    let Some((gi, g)) = dir.group(&key) else {
        let suggestion = dir.suggest_group(&group.name).map(str::to_string);
        cx.unknown(
            Code::UnknownGroup,
            "group",
            &group.name,
            group.span,
            suggestion.as_deref(),
            "add the group to the directory file",
        );
        return;
    };
    if g.hidden_membership {
        let gspan = dir.group_span(g);
        cx.push(
            Diagnostic::error(
                Code::HiddenMembershipGroup,
                format!("group `{}` has hidden membership and can't take policy assignments", group.name),
            )
            .at(group.span, "hidden membership")
            .also(gspan, "group defined here")
            .help("use a group whose membership is visible"),
        );
        return;
    }
    if let Some((r, rspan)) = rank {
        if r < 1 {
            cx.push(
                Diagnostic::error(Code::InvalidLiteral, format!("rank {r} is not allowed"))
                    .at(rspan, "rank must be 1 or more")
                    .help("1 is the highest precedence"),
            );
            return;
        }
        if let Some(other) = ptype.groups.iter().find(|x| x.rank == Some(r)) {
            let ospan = other.span;
            cx.push(
                Diagnostic::error(Code::DuplicateRank, format!("two `{type_name}` group assignments have rank {r}"))
                    .at(rspan, "same rank again")
                    .also(ospan, "first assignment with this rank")
                    .help("ranks order group assignments of one policy type: give each a different rank"),
            );
            return;
        }
    }
    if let Some(other) = ptype.groups.iter().find(|x| x.group == gi) {
        let ospan = other.span;
        cx.push(
            Diagnostic::error(Code::Duplicate, format!("group `{}` has two `{type_name}` assignments", group.name))
                .at(a.span, "assigned again here")
                .also(ospan, "first assigned here")
                .help("a group holds one instance of each policy type: remove one assignment"),
        );
        return;
    }
    let assignment = GroupAssignment { group: gi, rank: rank.map(|(r, _)| r), instance, span: a.span };
    if let Some(ptype) = cx.model.policy_types.get_mut(type_name) {
        ptype.groups.push(assignment);
    }
}

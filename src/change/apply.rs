//! Applying cmdlet lines to a checked model, with the refusals Teams itself makes.

use super::parse::{Arg, Command, Param};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::directory::key;
use crate::model::{ConfigSource, GroupAssignment, Instance, Model, PolicyType, Schema, Ty, Value};
use crate::source::Span;

fn refuse(span: Span, message: String, label: &str, help: String) -> Diagnostic {
    Diagnostic::error(Code::ChangeRefused, message).at(span, label).help(help)
}

/// `Tag:Name` and `Name` are one identity; case doesn't matter.
fn instance_key(identity: &str) -> String {
    key(identity.strip_prefix("Tag:").or_else(|| identity.strip_prefix("tag:")).unwrap_or(identity))
}

/// The value of a parameter that must be a single text (or integer) value.
fn text_of(p: &Param) -> Result<String, Diagnostic> {
    match &p.value {
        Some(Arg::Text(t)) => Ok(t.clone()),
        Some(Arg::Int(i)) => Ok(i.to_string()),
        _ => Err(refuse(
            p.span,
            format!("`-{}` takes a name or id", p.name),
            "not a single value",
            format!("write `-{} Name`", p.name),
        )),
    }
}

/// Applies every command in order; stops at none: every refusal is reported.
pub fn apply(model: &mut Model, commands: &[Command]) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for c in commands {
        if let Err(e) = command(model, c) {
            errors.push(e);
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn command(model: &mut Model, c: &Command) -> Result<(), Diagnostic> {
    let lower = c.name.to_ascii_lowercase();
    let noun = |prefix: &str| lower.strip_prefix(prefix).map(str::to_string);
    if let Some(n) = noun("set-cs") {
        if let Some(i) = model.configs.keys().position(|k| k.eq_ignore_ascii_case(&n)) {
            return set_config(model, c, i);
        }
        if let Some(t) = type_index(model, &n) {
            return set_policy(model, c, t, false);
        }
    }
    if let Some(n) = noun("new-cs")
        && n != "grouppolicyassignment"
        && let Some(t) = type_index(model, &n)
    {
        return set_policy(model, c, t, true);
    }
    if let Some(n) = noun("grant-cs")
        && let Some(t) = type_index(model, &n)
    {
        return grant(model, c, t);
    }
    match lower.as_str() {
        "new-csgrouppolicyassignment" => return new_group_assignment(model, c),
        "remove-csgrouppolicyassignment" => return remove_group_assignment(model, c),
        "update-m365teamsapp" => return update_app(model, c),
        _ => {}
    }
    let mut known: Vec<String> = model.configs.keys().map(|k| format!("Set-Cs{k}")).collect();
    for t in model.policy_types.keys() {
        known.extend([format!("Set-Cs{t}"), format!("New-Cs{t}"), format!("Grant-Cs{t}")]);
    }
    known.extend(
        ["New-CsGroupPolicyAssignment", "Remove-CsGroupPolicyAssignment", "Update-M365TeamsApp"].map(String::from),
    );
    let help = did_you_mean(&c.name, known.iter().map(String::as_str))
        .unwrap_or_else(|| "see the README's what-if section for the cmdlets tenet applies".to_string());
    Err(Diagnostic::error(Code::ChangeScript, format!("`{}` is not a cmdlet tenet can apply", c.name))
        .at(c.name_span, "unsupported cmdlet")
        .help(help))
}

fn type_index(model: &Model, noun: &str) -> Option<usize> {
    model.policy_types.keys().position(|k| k.eq_ignore_ascii_case(noun))
}

/// The typed value of `p` for a setting of type `ty`.
fn value_of(model: &Model, p: &Param, schema: &Schema, ty: &Ty) -> Result<Option<Value>, Diagnostic> {
    let wrong = |what: &str| {
        refuse(
            p.span,
            format!("`-{}` of {} takes {what}", p.name, schema.name),
            "wrong kind of value",
            format!("write `-{} <{what}>`", p.name),
        )
    };
    let scalar = |t: &Ty, text: &str| -> Option<Value> {
        match t {
            Ty::Str => Some(Value::Str(text.into())),
            Ty::Enum(e) => {
                let def = model.enums.get_index(*e)?.1;
                let i = def.variants.iter().position(|v| v.eq_ignore_ascii_case(text))?;
                Some(Value::Enum(*e, u32::try_from(i).ok()?))
            }
            _ => None,
        }
    };
    let v = match (&p.value, ty) {
        (Some(Arg::Null), _) => return Ok(None),
        (Some(Arg::Bool(b)), Ty::Bool) => Value::Bool(*b),
        // A bare switch (`-EnablePrivacyMode`) means $true, as in PowerShell.
        (None, Ty::Bool) => Value::Bool(true),
        (Some(Arg::Int(i)), Ty::Int) => Value::Int(*i),
        (Some(Arg::Text(t)), Ty::Str | Ty::Enum(_)) => match scalar(ty, t) {
            Some(v) => v,
            None => {
                let Ty::Enum(e) = ty else { return Err(wrong("text")) };
                let variants = model.enums.get_index(*e).map(|(_, d)| d.variants.join(", ")).unwrap_or_default();
                return Err(wrong(&format!("one of {variants}")));
            }
        },
        (Some(Arg::Int(i)), Ty::Str) => Value::Str(i.to_string().into()),
        (Some(Arg::List(items)), Ty::Set(inner)) => {
            let mut out = Vec::new();
            for item in items {
                out.push(scalar(inner, item).ok_or_else(|| wrong("a list of names"))?);
            }
            Value::set(out)
        }
        (Some(Arg::Text(t)), Ty::Set(inner)) => Value::set(vec![scalar(inner, t).ok_or_else(|| wrong("a list"))?]),
        (_, Ty::Bool) => return Err(wrong("$true or $false")),
        (_, Ty::Int) => return Err(wrong("an integer")),
        (_, Ty::Set(_)) => return Err(wrong("a list such as @(\"a\", \"b\")")),
        _ => return Err(wrong("a name")),
    };
    Ok(Some(v))
}

/// The setting `p` names, or a located error listing the settings.
fn setting(p: &Param, schema: &Schema) -> Result<usize, Diagnostic> {
    schema.settings.keys().position(|k| k.eq_ignore_ascii_case(&p.name)).ok_or_else(|| {
        let help = did_you_mean(&p.name, schema.settings.keys().map(String::as_str)).unwrap_or_else(|| {
            format!("its settings: {}", schema.settings.keys().cloned().collect::<Vec<_>>().join(", "))
        });
        refuse(p.span, format!("`-{}` is not a setting of {}", p.name, schema.name), "unknown parameter", help)
    })
}

fn set_config(model: &mut Model, c: &Command, i: usize) -> Result<(), Diagnostic> {
    let mut updates = Vec::new();
    {
        let config = &model.configs[i];
        for p in &c.params {
            if p.name.eq_ignore_ascii_case("Identity") {
                let id = text_of(p)?;
                if !id.eq_ignore_ascii_case("Global") {
                    return Err(refuse(
                        p.span,
                        format!("{} has only the Global identity", config.schema.name),
                        "not Global",
                        "leave out -Identity, or write -Identity Global".into(),
                    ));
                }
                continue;
            }
            let s = setting(p, &config.schema)?;
            let ty = config.schema.settings[s].ty.clone();
            let v = value_of(model, p, &config.schema, &ty)?;
            updates.push((s, v, p.span));
        }
    }
    let config = &mut model.configs[i];
    for (s, v, span) in updates {
        let value = v.unwrap_or_else(|| config.schema.settings[s].default.clone());
        config.values[s] = (value, ConfigSource::Tenant(span));
    }
    Ok(())
}

/// The parameter `name` of `c`, or a located error saying it is needed and how to give it.
fn required<'c>(c: &'c Command, name: &str, label: &str, help: &str) -> Result<&'c Param, Diagnostic> {
    c.param(name).ok_or_else(|| refuse(c.name_span, format!("`{}` needs -{name}", c.name), label, help.to_string()))
}

/// `Set-Cs<Type>` (an existing instance) or `New-Cs<Type>` (a new one).
fn set_policy(model: &mut Model, c: &Command, t: usize, new: bool) -> Result<(), Diagnostic> {
    let idp = required(c, "Identity", "which instance?", "add -Identity Global or -Identity Tag:Name")?;
    let identity = text_of(idp)?;
    let k = instance_key(&identity);
    let mut updates = Vec::new();
    {
        let ptype = &model.policy_types[t];
        for p in c.params.iter().filter(|p| !p.name.eq_ignore_ascii_case("Identity")) {
            let s = setting(p, &ptype.schema)?;
            let ty = ptype.schema.settings[s].ty.clone();
            let v = value_of(model, p, &ptype.schema, &ty)?;
            updates.push((s, v, p.span));
        }
    }
    let ptype = &mut model.policy_types[t];
    let instance = match (ptype.instances.get_index_of(&k), new) {
        (Some(i), false) => i,
        (None, false) => return Err(unknown_instance(idp.span, ptype, &identity)),
        (Some(_), true) => {
            return Err(refuse(
                idp.span,
                format!("{} `{identity}` already exists", ptype.schema.name),
                "exists",
                format!("change it with Set-Cs{}", ptype.schema.name),
            ));
        }
        (None, true) => {
            let name = identity.strip_prefix("Tag:").unwrap_or(&identity).trim().to_string();
            let values = vec![None; ptype.schema.settings.len()];
            ptype.instances.insert(k, Instance { name, locked: false, values, span: Some(idp.span) });
            ptype.instances.len() - 1
        }
    };
    let inst = &mut ptype.instances[instance];
    if inst.locked {
        let name = ptype.schema.name.clone();
        return Err(refuse(
            idp.span,
            format!("{} {} is a locked subscription default: Teams doesn't let it be changed", name, inst.identity()),
            "locked",
            format!("create a policy with New-Cs{name} and assign it with Grant-Cs{name} instead"),
        ));
    }
    for (s, v, span) in updates {
        inst.values[s] = v.map(|v| (v, span));
    }
    Ok(())
}

fn unknown_instance(span: Span, ptype: &PolicyType, identity: &str) -> Diagnostic {
    let names: Vec<String> = ptype.instances.values().map(Instance::identity).collect();
    let help = did_you_mean(identity, names.iter().map(String::as_str))
        .unwrap_or_else(|| format!("its instances: {}; create one with New-Cs{}", names.join(", "), ptype.schema.name));
    refuse(span, format!("{} has no instance `{identity}`", ptype.schema.name), "unknown instance", help)
}

/// `-PolicyName` of a grant: an instance, or `None` for `$null`.
fn policy_name(model: &Model, c: &Command, t: usize) -> Result<Option<usize>, Diagnostic> {
    let ptype = &model.policy_types[t];
    let p = required(c, "PolicyName", "which policy?", "add -PolicyName Tag:Name, or -PolicyName $null to remove")?;
    if p.value == Some(Arg::Null) {
        return Ok(None);
    }
    let name = text_of(p)?;
    ptype.instances.get_index_of(&instance_key(&name)).map(Some).ok_or_else(|| unknown_instance(p.span, ptype, &name))
}

fn grant(model: &mut Model, c: &Command, t: usize) -> Result<(), Diagnostic> {
    let instance = policy_name(model, c, t)?;
    only(c, &["Identity", "PolicyName", "Group", "Rank"])?;
    match (c.param("Identity"), c.param("Group")) {
        (Some(p), None) => {
            let upn = text_of(p)?;
            let Some((user, _)) = model.directory.user(&upn) else {
                let help = model
                    .directory
                    .suggest_user(&upn)
                    .map_or_else(|| "check the UPN".to_string(), |s| format!("did you mean `{s}`?"));
                return Err(refuse(p.span, format!("unknown user `{upn}`"), "not in the directory", help));
            };
            let ptype = &mut model.policy_types[t];
            match instance {
                Some(i) => {
                    ptype.direct.insert(user, (i, c.span));
                }
                None => {
                    ptype.direct.remove(&user);
                }
            }
            Ok(())
        }
        (None, Some(g)) => {
            let rank = rank_of(c)?;
            group_assignment(model, c, t, g, instance, rank)
        }
        _ => Err(refuse(
            c.name_span,
            format!("`{}` needs -Identity UPN or -Group ID", c.name),
            "whom?",
            "give one of them".into(),
        )),
    }
}

fn rank_of(c: &Command) -> Result<Option<i64>, Diagnostic> {
    match c.param("Rank") {
        None => Ok(None),
        Some(Param { value: Some(Arg::Int(r)), .. }) if *r >= 1 => Ok(Some(*r)),
        Some(p) => Err(refuse(
            p.span,
            "`-Rank` takes a whole number from 1".into(),
            "not a rank",
            "write -Rank 1 for the first".into(),
        )),
    }
}

/// Gives (or, with `None`, removes) the group's assignment of type `t`, with Teams' ranks: a
/// rank already taken pushes that assignment and every later one down by one; no rank means
/// last; removing keeps the order of the rest.
fn group_assignment(
    model: &mut Model,
    c: &Command,
    t: usize,
    g: &Param,
    instance: Option<usize>,
    rank: Option<i64>,
) -> Result<(), Diagnostic> {
    let id = text_of(g)?;
    let Some((group, _)) = model.directory.group(&id) else {
        let help = model
            .directory
            .suggest_group(&id)
            .map_or_else(|| "check the group's id".to_string(), |s| format!("did you mean `{s}`?"));
        return Err(refuse(g.span, format!("unknown group `{id}`"), "not in the directory", help));
    };
    let ptype = &mut model.policy_types[t];
    if ptype.direct_only && instance.is_some() {
        return Err(refuse(
            g.span,
            format!("{} can't be assigned to groups: Teams only assigns it per user", ptype.schema.name),
            "group assignment",
            format!("assign it to each user with Grant-Cs{} -Identity UPN", ptype.schema.name),
        ));
    }
    ptype.groups.retain(|a| a.group != group);
    let Some(instance) = instance else { return Ok(()) };
    let last = ptype.groups.iter().filter_map(|a| a.rank).max().unwrap_or(0);
    let rank = match rank {
        Some(r) => {
            for a in &mut ptype.groups {
                if let Some(x) = a.rank.as_mut()
                    && *x >= r
                {
                    *x += 1;
                }
            }
            r
        }
        None => last + 1,
    };
    ptype.groups.push(GroupAssignment { group, rank: Some(rank), instance, span: c.span });
    ptype.groups.sort_by_key(GroupAssignment::precedence);
    Ok(())
}

/// Refuses any parameter `c` doesn't take: nothing in a script is ignored.
fn only(c: &Command, takes: &[&str]) -> Result<(), Diagnostic> {
    match c.params.iter().find(|p| !takes.iter().any(|k| p.name.eq_ignore_ascii_case(k))) {
        None => Ok(()),
        Some(p) => Err(refuse(
            p.span,
            format!("`{}` doesn't take `-{}` here", c.name, p.name),
            "unsupported parameter",
            format!("it takes {}", takes.iter().map(|k| format!("-{k}")).collect::<Vec<_>>().join(", ")),
        )),
    }
}

/// The `-GroupId` of a group assignment cmdlet, which takes only `takes` besides.
fn group_id(model: &Model, c: &Command, takes: &[&str]) -> Result<(usize, Param), Diagnostic> {
    only(c, takes)?;
    let t = policy_type_param(model, c)?;
    let g = required(c, "GroupId", "which group?", "add -GroupId ID")?;
    Ok((t, g.clone()))
}

fn new_group_assignment(model: &mut Model, c: &Command) -> Result<(), Diagnostic> {
    let (t, g) = group_id(model, c, &["GroupId", "PolicyType", "PolicyName", "Rank"])?;
    let instance = policy_name(model, c, t)?;
    if instance.is_none() {
        return Err(refuse(
            c.name_span,
            "`New-CsGroupPolicyAssignment` needs a policy".into(),
            "-PolicyName $null",
            "use Remove-CsGroupPolicyAssignment to remove one".into(),
        ));
    }
    let rank = rank_of(c)?;
    group_assignment(model, c, t, &g, instance, rank)
}

fn remove_group_assignment(model: &mut Model, c: &Command) -> Result<(), Diagnostic> {
    let (t, g) = group_id(model, c, &["GroupId", "PolicyType"])?;
    group_assignment(model, c, t, &g, None, None)
}

fn policy_type_param(model: &Model, c: &Command) -> Result<usize, Diagnostic> {
    let p = required(c, "PolicyType", "which type?", "add -PolicyType TeamsMessagingPolicy, say")?;
    let name = text_of(p)?;
    type_index(model, &name).ok_or_else(|| {
        let help = did_you_mean(&name, model.policy_types.keys().map(String::as_str))
            .unwrap_or_else(|| "a policy type of the pack".into());
        refuse(p.span, format!("unknown policy type `{name}`"), "unknown type", help)
    })
}

/// `Update-M365TeamsApp -Id ID -IsBlocked $true|$false`: the app whose `Id` (or `Name`) is ID
/// becomes Blocked or Allowed for the whole tenant.
fn update_app(model: &mut Model, c: &Command) -> Result<(), Diagnostic> {
    only(c, &["Id", "IsBlocked"])?;
    let (Some(idp), Some(blocked)) = (c.param("Id"), c.param("IsBlocked")) else {
        return Err(refuse(
            c.name_span,
            "`Update-M365TeamsApp` needs -Id and -IsBlocked".into(),
            "incomplete",
            "write `Update-M365TeamsApp -Id <app id> -IsBlocked $true`".into(),
        ));
    };
    let id = text_of(idp)?;
    let is_blocked = match blocked.value {
        Some(Arg::Bool(b)) => b,
        None => true,
        _ => {
            return Err(refuse(
                blocked.span,
                "`-IsBlocked` takes $true or $false".into(),
                "not a bool",
                "write -IsBlocked $true".into(),
            ));
        }
    };
    let text = |config: &crate::model::Config, name: &str| -> Option<String> {
        let i = config.schema.settings.get_index_of(name)?;
        match &config.values[i].0 {
            Value::Str(s) => Some(s.to_string()),
            _ => None,
        }
    };
    let app = model.configs.values().position(|config| {
        config.schema.settings.contains_key("Status")
            && [text(config, "Id"), text(config, "Name")]
                .into_iter()
                .flatten()
                .any(|v| !v.is_empty() && v.eq_ignore_ascii_case(&id))
    });
    let Some(app) = app else {
        return Err(refuse(idp.span, format!("no app of the pack has the id `{id}`"), "unknown app", "the pack knows apps by the id its configuration gives (`ParentsApp.Id`, set by `--parents-app-id` on import) or by name, such as `Parents`".into()));
    };
    let config = &mut model.configs[app];
    let s = config.schema.settings.get_index_of("Status").unwrap_or_default();
    let Ty::Enum(e) = config.schema.settings[s].ty else { return Ok(()) };
    let variant = if is_blocked { "Blocked" } else { "Allowed" };
    let Some(v) = model.enums.get_index(e).and_then(|(_, d)| d.variants.iter().position(|x| x == variant)) else {
        return Ok(());
    };
    let config = &mut model.configs[app];
    config.values[s] = (Value::Enum(e, u32::try_from(v).unwrap_or_default()), ConfigSource::Tenant(c.span));
    Ok(())
}

//! Enums, policy types, configuration objects and the tenant's configuration values.

use super::Cx;
use crate::ast::{self, Item};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Config, ConfigSource, EnumDef, PolicyType, Schema, Setting, Ty, Value};
use indexmap::IndexMap;
use std::collections::HashMap;

pub(super) fn declare_enums(cx: &mut Cx, files: &[ast::File]) {
    for def in files.iter().flat_map(|f| &f.items).filter_map(|i| match i {
        Item::Enum(e) => Some(e),
        _ => None,
    }) {
        if matches!(def.name.name.as_str(), "bool" | "int" | "string" | "set") {
            cx.duplicate("type", &def.name.name, def.name.span, None);
            continue;
        }
        if let Some(first) = cx.model.enums.get(&def.name.name) {
            let first = first.span;
            cx.duplicate("enum", &def.name.name, def.name.span, first);
            continue;
        }
        let mut variants: Vec<String> = Vec::new();
        for v in &def.variants {
            if variants.contains(&v.name) {
                cx.push(
                    Diagnostic::error(Code::Duplicate, format!("enum `{}` lists `{}` twice", def.name.name, v.name))
                        .at(v.span, "listed again here")
                        .help("remove the repeated variant"),
                );
            } else {
                variants.push(v.name.clone());
            }
        }
        cx.model.enums.insert(
            def.name.name.clone(),
            EnumDef { name: def.name.name.clone(), variants, span: Some(def.name.span) },
        );
    }
}

pub(super) fn declare_schemas(cx: &mut Cx, files: &[ast::File]) {
    for item in files.iter().flat_map(|f| &f.items) {
        let (def, is_type) = match item {
            Item::PolicyType(d) => (d, true),
            Item::Configuration(d) => (d, false),
            _ => continue,
        };
        let name = &def.name.name;
        let first = cx
            .model
            .policy_types
            .get(name)
            .map(|t| t.schema.span)
            .or_else(|| cx.model.configs.get(name).map(|c| c.schema.span));
        if let Some(first) = first {
            cx.duplicate("policy type or configuration", name, def.name.span, Some(first));
            continue;
        }
        let schema = schema(cx, def);
        if is_type {
            cx.model.policy_types.insert(
                name.clone(),
                PolicyType {
                    schema,
                    direct_only: def.direct_only.is_some(),
                    instances: IndexMap::new(),
                    global: 0,
                    direct: HashMap::default(),
                    groups: Vec::new(),
                },
            );
        } else {
            let values = schema.settings.values().map(|s| (s.default.clone(), ConfigSource::Default)).collect();
            cx.model.configs.insert(name.clone(), Config { schema, values });
        }
    }
}

fn schema(cx: &mut Cx, def: &ast::SchemaDef) -> Schema {
    let mut settings: IndexMap<String, Setting> = IndexMap::new();
    for decl in &def.settings {
        if let Some(first) = settings.get(&decl.name.name) {
            let first = first.span;
            cx.duplicate("setting", &decl.name.name, decl.name.span, Some(first));
            continue;
        }
        let Some(ty) = resolve_type(cx, &decl.ty) else { continue };
        let Some(default) = resolve_value(cx, &decl.default, &ty) else { continue };
        settings.insert(
            decl.name.name.clone(),
            Setting { name: decl.name.name.clone(), ty, default, span: decl.name.span },
        );
    }
    Schema { name: def.name.name.clone(), settings, span: def.name.span }
}

fn resolve_type(cx: &mut Cx, ty: &ast::TypeRef) -> Option<Ty> {
    match ty {
        ast::TypeRef::Named(i) => scalar_type(cx, i),
        ast::TypeRef::Set(elem, _) => {
            let inner = scalar_type(cx, elem)?;
            if matches!(inner, Ty::Str | Ty::Enum(_)) {
                Some(Ty::Set(Box::new(inner)))
            } else {
                cx.push(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("sets hold strings or enum values, not `{}`", elem.name),
                    )
                    .at(elem.span, "unsupported element type")
                    .help("use `set<string>`"),
                );
                None
            }
        }
    }
}

fn scalar_type(cx: &mut Cx, name: &ast::Ident) -> Option<Ty> {
    match name.name.as_str() {
        "bool" => Some(Ty::Bool),
        "int" => Some(Ty::Int),
        "string" => Some(Ty::Str),
        other => match cx.model.enums.get_index_of(other) {
            Some(i) => Some(Ty::Enum(i)),
            None => {
                let mut candidates: Vec<String> = vec!["bool".into(), "int".into(), "string".into()];
                candidates.extend(cx.model.enums.keys().cloned());
                cx.unknown(
                    Code::UnknownType,
                    "type",
                    other,
                    name.span,
                    candidates.iter().map(String::as_str),
                    "use `bool`, `int`, `string`, `set<string>` or the name of an `enum`",
                );
                None
            }
        },
    }
}

/// Describes a type for messages.
pub(super) fn type_name(cx: &Cx, ty: &Ty) -> String {
    match ty {
        Ty::Bool => "bool".into(),
        Ty::Int => "int".into(),
        Ty::Str => "string".into(),
        Ty::Enum(e) => cx.model.enums.get_index(*e).map_or("?".into(), |(n, _)| n.clone()),
        Ty::Set(inner) => format!("set<{}>", type_name(cx, inner)),
    }
}

fn literal_kind(v: &ast::Value) -> &'static str {
    match v {
        ast::Value::Bool(..) => "a bool",
        ast::Value::Int(..) => "an integer",
        ast::Value::Str(..) => "a string",
        ast::Value::Name(_) => "a name",
        ast::Value::List(..) => "a list",
    }
}

/// Checks a literal against the type it must have.
pub(super) fn resolve_value(cx: &mut Cx, value: &ast::Value, ty: &Ty) -> Option<Value> {
    match (value, ty) {
        (ast::Value::Bool(b, _), Ty::Bool) => Some(Value::Bool(*b)),
        (ast::Value::Int(i, _), Ty::Int) => Some(Value::Int(*i)),
        (ast::Value::Str(s, _), Ty::Str) => Some(Value::Str(s.as_str().into())),
        (ast::Value::Name(n), Ty::Enum(e)) => enum_variant(cx, *e, n),
        (ast::Value::List(items, _), Ty::Set(inner)) => {
            let mut out = Vec::new();
            for item in items {
                out.push(resolve_value(cx, item, inner)?);
            }
            Some(Value::set(out))
        }
        _ => {
            let expected = type_name(cx, ty);
            let mut d =
                Diagnostic::error(Code::TypeMismatch, format!("expected {expected}, found {}", literal_kind(value)))
                    .at(value.span(), format!("expected {expected}"));
            d = d.help(match ty {
                Ty::Bool => "write `true` or `false`".to_string(),
                Ty::Int => "write a whole number such as `3`".to_string(),
                Ty::Str => "write a double-quoted string".to_string(),
                Ty::Enum(e) => {
                    let variants = cx.model.enums.get_index(*e).map(|(_, d)| d.variants.join(", ")).unwrap_or_default();
                    format!("write one of {variants} (without quotes)")
                }
                Ty::Set(_) => "write a list such as `[\"a\", \"b\"]`".to_string(),
            });
            cx.push(d);
            None
        }
    }
}

pub(super) fn enum_variant(cx: &mut Cx, e: usize, name: &ast::Ident) -> Option<Value> {
    let (enum_name, def) = cx.model.enums.get_index(e)?;
    if let Some(i) = def.variants.iter().position(|v| *v == name.name) {
        return Some(Value::Enum(e, u32::try_from(i).ok()?));
    }
    let what = format!("value of `{enum_name}`");
    let fallback = format!("`{enum_name}` is one of {}", def.variants.join(", "));
    let variants = def.variants.clone();
    cx.unknown(Code::UnknownVariant, &what, &name.name, name.span, variants.iter().map(String::as_str), &fallback);
    None
}

/// Resolves `Setting = value` lines against a schema; returns (setting id, value, line).
pub(super) fn setting_values(
    cx: &mut Cx,
    schema: &Schema,
    owner: &str,
    values: &[ast::SettingValue],
) -> Vec<(usize, Value, crate::source::Span)> {
    let mut out: Vec<(usize, Value, crate::source::Span)> = Vec::new();
    for sv in values {
        let (idx, setting) = match super::find_setting(schema, &sv.name) {
            Ok(found) => found,
            Err(d) => {
                cx.push(d);
                continue;
            }
        };
        if let Some((_, _, first)) = out.iter().find(|(i, _, _)| *i == idx) {
            let first = *first;
            cx.push(
                Diagnostic::error(Code::Duplicate, format!("`{}` is set twice in {owner}", sv.name.name))
                    .at(sv.name.span, "set again here")
                    .also(first, "first set here")
                    .help("keep one of the two lines"),
            );
            continue;
        }
        let ty = setting.ty.clone();
        if let Some(v) = resolve_value(cx, &sv.value, &ty) {
            out.push((idx, v, sv.name.span));
        }
    }
    out
}

pub(super) fn tenant_values(cx: &mut Cx, files: &[ast::File]) {
    let mut seen: HashMap<String, crate::source::Span> = HashMap::new();
    for tv in files.iter().flat_map(|f| &f.items).filter_map(|i| match i {
        Item::TenantValues(t) => Some(t),
        _ => None,
    }) {
        let name = &tv.config.name;
        let Some(config) = cx.model.configs.get(name) else {
            let hint = if cx.model.policy_types.contains_key(name) {
                format!("`{name}` is a policy type: write `policy {name} \"Global\" {{ ... }}`")
            } else {
                "declare it with `configuration Name { ... }`".to_string()
            };
            let names: Vec<String> = cx.model.configs.keys().cloned().collect();
            cx.unknown(
                Code::UnknownType,
                "configuration",
                name,
                tv.config.span,
                names.iter().map(String::as_str),
                &hint,
            );
            continue;
        };
        if let Some(first) = seen.get(name) {
            cx.push(
                Diagnostic::error(Code::Duplicate, format!("the tenant's `{name}` is written twice"))
                    .at(tv.config.span, "written again here")
                    .also(*first, "first written here")
                    .help("a tenant has one value per configuration: merge the two blocks"),
            );
            continue;
        }
        seen.insert(name.clone(), tv.config.span);
        let schema = config.schema.clone();
        let resolved = setting_values(cx, &schema, &format!("tenant `{name}`"), &tv.values);
        if let Some(config) = cx.model.configs.get_mut(name) {
            for (idx, value, span) in resolved {
                config.values[idx] = (value, ConfigSource::Tenant(span));
            }
        }
    }
}

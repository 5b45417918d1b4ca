//! docs/openapi.yaml against the admin route table: every `/admin/v1` route is documented, with
//! the permission the table gives it (`x-permission`) and the security that permission implies
//! (none for an open route; the session cookie, and the CSRF header unless it is a GET), and the
//! document names no admin route the table lacks. `scripts/check_openapi.py` checks the answers.

use serde_yaml::Value;
use vaccount::http::admin::{Access, route_table};

fn spec() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("docs/openapi.yaml")).expect("YAML")
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The scheme names of each alternative of an operation's `security`.
fn security(operation: &Value) -> Vec<Vec<String>> {
    operation["security"]
        .as_sequence()
        .unwrap_or_else(|| panic!("no security list on {operation:?}"))
        .iter()
        .map(|alternative| alternative.as_mapping().map(|m| m.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect()).unwrap_or_default())
        .collect()
}

#[test]
fn every_admin_route_is_documented_with_its_permission_and_security() {
    let spec = spec();
    for route in route_table() {
        let method = route.method.as_str().to_lowercase();
        let operation = &spec["paths"][route.path][method.as_str()];
        assert!(operation.is_mapping(), "{} {} is not in docs/openapi.yaml", route.method, route.path);
        let (permission, expected) = match route.access {
            Access::Open => ("open".to_owned(), vec![]),
            Access::Needs(p) if method == "get" => (p.as_str().to_owned(), vec![vec!["AdminSession".to_owned()]]),
            Access::Needs(p) => (p.as_str().to_owned(), vec![vec!["AdminCsrf".to_owned(), "AdminSession".to_owned()]]),
        };
        assert_eq!(operation["x-permission"].as_str(), Some(permission.as_str()), "x-permission of {} {}", route.method, route.path);
        let mut documented = security(operation);
        documented.iter_mut().for_each(|alternative| alternative.sort());
        assert_eq!(documented, expected, "security of {} {}", route.method, route.path);
    }
}

#[test]
fn the_document_names_no_admin_route_the_table_lacks() {
    let spec = spec();
    let routed: Vec<(String, String)> = route_table().iter().map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned())).collect();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        let path = path.as_str().expect("a path");
        if !path.starts_with("/admin/") {
            continue;
        }
        for method in METHODS.into_iter().filter(|m| item.get(*m).is_some()) {
            assert!(routed.contains(&(method.to_owned(), path.to_owned())), "docs/openapi.yaml documents {method} {path}, which is not routed");
        }
    }
}

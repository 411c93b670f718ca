//! The OpenAPI 3.1 document of the JSON API, served at `/api/openapi.json` and kept as a reviewed
//! snapshot in `docs/openapi.json`.
//!
//! It has three sources. The routes of `crate::api::documented()` document themselves: their
//! handlers carry `#[utoipa::path]` and their inputs and outputs derive `ToSchema`, and
//! [`Doc::generated`] completes each operation with what every route shares. The record
//! endpoints are generic over the table specs in [`xiansuo_app::records::schema`], so their
//! schemas, writable fields and list filters are generated from the same specs that drive the
//! record engine. The other areas are still described here with utoipa's builders, beside
//! their handlers in `crate::api`.

use crate::auth::SESSION_COOKIE;
use crate::BODY_LIMIT;
use serde_json::json;
use utoipa::openapi::path::{
    OperationBuilder, Parameter, ParameterBuilder, ParameterIn, ParameterStyle,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, SchemaType};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, Content, HeaderBuilder, HttpMethod, InfoBuilder, KnownFormat,
    LicenseBuilder, ObjectBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
    ResponseBuilder, Schema, SchemaFormat, Tag, Type,
};
use utoipa::PartialSchema;
use xiansuo_app::admin::audit;
use xiansuo_app::records::attachments::{Attachment, AttachmentList};
use xiansuo_app::records::schema::{CodeSet, Field, Kind, Table, TABLES};
use xiansuo_core::custom_field::{FieldType, RecordType};
use xiansuo_core::history::Channel;
use xiansuo_core::lead::{ActivityType, Outcome, BUILTIN_SOURCES};
use xiansuo_core::role::{Role, TeamKind};
use xiansuo_core::schema::{codes, date_time, scalar, string, text, typed, YEARS};

mod backups;
mod choices;
mod prediction;
mod robots;

/// The OpenAPI document of the whole JSON API.
pub fn document() -> OpenApi {
    let mut doc = Doc::default();
    for table in TABLES {
        doc.records(table);
    }
    doc.dedup();
    doc.activities();
    doc.users();
    doc.teams();
    doc.tokens();
    doc.custom_fields();
    doc.exports();
    doc.audit();
    doc.webhook_deliveries();
    doc.generated(crate::api::documented().into_openapi());
    doc.robot_deliveries();
    doc.choices();
    doc.imports();
    doc.pipeline();
    doc.reports();
    doc.privacy();
    doc.notifications();
    doc.record_attachments();
    doc.scoring_and_assignment();
    doc.prediction();
    doc.backups();
    doc.forms();
    doc.auth();
    doc.operations();
    doc.errors();

    let mut components = ComponentsBuilder::new()
        .schemas_from_iter(doc.schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `xiansuo token create --username NAME` or \
                         `POST /api/v1/tokens`, sent as `Authorization: Bearer TOKEN`.",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The web session set by `POST /api/v1/auth/login`. Writes (POST, PATCH, DELETE) \
                 with it must also send the session's CSRF token in the `X-CSRF-Token` header.",
            ))),
        );
    for failure in Failure::ALL {
        components = components.response(failure.name(), failure.response());
    }

    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Xiansuo API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name(env!("CARGO_PKG_LICENSE"))
                        .identifier(Some(env!("CARGO_PKG_LICENSE")))
                        .build(),
                )),
        )
        .paths(doc.paths)
        .components(Some(components.build()))
        // Either scheme will do; the public operations override this with an empty list.
        .security(Some([
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]))
        .tags(Some(tags()))
        .build()
}

const DESCRIPTION: &str = "\
The JSON API of Xiansuo (线索), a self-hosted lead CRM: leads, accounts, contacts and \
opportunities with their follow-ups and history, and the users, teams, tokens and custom fields \
around them. Request and response bodies are JSON.

## Authentication

Send `Authorization: Bearer TOKEN` with a token printed by `xiansuo token create --username NAME` \
(or created with `POST /api/v1/tokens`). A token has a scope: `read_only` tokens may only read \
(any write is refused with 403), `read_write` tokens read and write what their user may but do \
nothing admin-only, `admin` tokens do all their user's role allows (`xiansuo token create` makes \
those). The web UI signs in with `POST /api/v1/auth/login` \
instead, which sets the `xs_session` cookie; a write (POST, PATCH, DELETE) authenticated by that \
cookie must also send the `csrf_token` from the login response in the `X-CSRF-Token` header. \
What a caller sees follows their role's data scope: a rep their own records, a manager their \
team's subtree of the org tree, an admin everything. A record outside it answers 404, as if it \
did not exist.

## Errors

Every error is JSON with a matching status: \
`{\"error\": {\"code\": \"invalid\", \"message\": \"phone: …\", \"field\": \"phone\"}}`. \
`code` is stable and meant for programs, `message` is meant for people, and `field` names the \
field at fault (else null). 400: malformed JSON, query string or id; 401: no valid token or \
session; 403: not allowed; 404: not found or not visible; 409: conflicts with the current state; \
413: body too large; 415: body not sent as `application/json`; 422: a field is invalid; \
429: too many failed sign-ins (see `Retry-After`). Bad input never causes a 5xx.

## Pagination

Record lists are keyset paginated: `limit` (1–500, default 50) records per page, in the order \
of `sort`. When more follow, the response's `next_cursor` is a string: pass it back as `cursor`, \
with the same filters and sort, for the next page. On the last page it is null. Pages stay \
consistent while records are added.";

/// The paths and schemas as they are being collected.
#[derive(Default)]
struct Doc {
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Doc {
    fn schema(&mut self, name: impl Into<String>, schema: impl Into<RefOr<Schema>>) {
        self.schemas.push((name.into(), schema.into()));
    }

    /// Adds an operation with the responses every operation of its kind can end in, so that
    /// each call site names only the failures particular to it.
    fn add(&mut self, method: HttpMethod, path: &str, op: OperationBuilder, fails: &[Failure]) {
        self.add_operation(method, path, op.build(), fails);
    }

    /// The operations the handlers document (`crate::api::documented`), with their schemas.
    /// A status a handler lists as one of its failures answers with the shared error response
    /// of that status.
    fn generated(&mut self, api: OpenApi) {
        if let Some(components) = api.components {
            self.schemas.extend(components.schemas);
        }
        for (path, item) in api.paths.paths {
            let operations = [
                (HttpMethod::Get, item.get),
                (HttpMethod::Post, item.post),
                (HttpMethod::Put, item.put),
                (HttpMethod::Patch, item.patch),
                (HttpMethod::Delete, item.delete),
            ];
            for (method, op) in operations {
                let Some(mut op) = op else { continue };
                let fails: Vec<Failure> = Failure::ALL
                    .into_iter()
                    .filter(|f| op.responses.responses.remove(f.status()).is_some())
                    .collect();
                self.add_operation(method, &path, op, &fails);
            }
        }
    }

    fn add_operation(
        &mut self,
        method: HttpMethod,
        path: &str,
        mut op: utoipa::openapi::path::Operation,
        fails: &[Failure],
    ) {
        let write = !matches!(method, HttpMethod::Get);
        let public = !path.starts_with("/api/v1/") || path == LOGIN;
        let mut failures = Vec::new();
        if public {
            // An empty list overrides the document-wide requirement: no credentials needed.
            op.security = Some(Vec::new());
        } else {
            failures.push(Failure::Unauthorized);
            if write {
                // Bearer tokens need no CSRF token, so the header is optional in the document.
                let csrf = ParameterBuilder::new()
                    .name("X-CSRF-Token")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "The session's CSRF token; required when authenticating with the session \
                         cookie",
                    ))
                    .schema(Some(string(
                        false,
                        "The `csrf_token` from the login response",
                    )))
                    .build();
                op.parameters.get_or_insert_with(Vec::new).push(csrf);
                failures.push(Failure::Forbidden);
            }
        }
        if path.contains("{id}") {
            let id_param = ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("The id"))
                .schema(Some(id(false, "The id")))
                .build();
            op.parameters
                .get_or_insert_with(Vec::new)
                .insert(0, id_param);
            failures.extend([Failure::BadRequest, Failure::NotFound]);
        }
        if op.request_body.is_some() {
            failures.extend([Failure::BadRequest, Failure::TooLarge, Failure::MediaType]);
        }
        failures.extend_from_slice(fails);
        for failure in failures {
            op.responses.responses.insert(
                failure.status().to_owned(),
                Ref::from_response_name(failure.name()).into(),
            );
        }
        self.paths.add_path_operation(path, vec![method], op);
    }

    /// The schemas and endpoints of one record type, all generated from its table spec.
    fn records(&mut self, table: &Table) {
        let one = table.schema;
        let lower = one.to_lowercase();
        let a = with_article(&lower);
        let many = capitalized(table.name);
        let tag = table.name;
        let base = format!("/api/v1/{}", table.name);
        let item = format!("{base}/{{id}}");

        self.schema(one, record_schema(table));
        self.schema(format!("{one}Input"), input_schema(table, true));
        self.schema(format!("{one}Patch"), input_schema(table, false));
        self.schema(
            format!("{one}List"),
            ObjectBuilder::new()
                .description(Some(format!("One page of {}", table.name)))
                .property("items", array(Ref::from_schema_name(one), "The records"))
                .property(
                    "next_cursor",
                    string(
                        true,
                        "Pass as `cursor` for the next page; null on the last page",
                    ),
                )
                .property(
                    "total",
                    scalar(
                        Type::Integer,
                        false,
                        "How many records match the filters on all pages; only with `count=true`",
                    ),
                )
                .required("items")
                .required("next_cursor"),
        );

        let defaults: Vec<String> = table
            .defaults
            .iter()
            .map(|(field, code)| format!("`{field}` defaults to `{code}`. "))
            .collect();
        self.add(
            HttpMethod::Get,
            &base,
            operation(&format!("list{many}"), tag, &format!("List {}", table.name))
                .description(Some(format!(
                    "The {} you may see, one page at a time (pass `next_cursor` back as \
                     `cursor`). Filters combine with AND; a comma-separated filter matches any \
                     of its values.\n\nCustom fields filter with `custom.KEY=value`, for example \
                     `custom.budget=5000`: numbers and booleans (`true`, `false`) compare as \
                     such, and a multi-select field matches when it holds the value.",
                    table.name
                )))
                .parameters(Some(list_parameters(table)))
                .response("200", json_response("One page", &format!("{one}List"))),
            &[Failure::BadRequest, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            &format!("{base}/export"),
            operation(
                &format!("export{many}"),
                tag,
                &format!("Export {} as CSV or XLSX", table.name),
            )
            .description(Some(format!(
                "Every {lower} the list with the same filters would show, as one file: CSV \
                 (UTF-8 with a byte order mark, so that Excel reads Chinese) or XLSX. The header \
                 row names the fields in your language; custom fields follow as `custom.KEY`; \
                 times are UTC. Text beginning with `=`, `+`, `-`, `@`, a tab or a carriage \
                 return is neutralised (a leading `'` in CSV, a text cell in XLSX), so a \
                 spreadsheet never runs it as a formula. Every export is recorded \
                 (`GET /api/v1/exports`)."
            )))
            .parameters(Some(export_parameters(table)))
            .response("200", export_file()),
            &[Failure::BadRequest, Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            &base,
            operation(&format!("create{one}"), tag, &format!("Create {a}"))
                .description(Some(format!(
                    "The {lower} is owned by its creator unless the body gives `owner_id`. {}\
                     Unknown and read-only fields are refused, naming the accepted ones.",
                    defaults.concat()
                )))
                .request_body(Some(json_body(&format!("{one}Input"))))
                .response("201", json_response("Created", one)),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            &item,
            operation(&format!("get{one}"), tag, &format!("Get {a}"))
                .response("200", json_response("The record", one)),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            &item,
            operation(&format!("update{one}"), tag, &format!("Change {a}"))
                .description(Some(
                    "Changes only the fields given; `null` clears a field. Every change is \
                     recorded in the history with who made it and through which channel.",
                ))
                .request_body(Some(json_body(&format!("{one}Patch"))))
                .response("200", json_response("The changed record", one)),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            &item,
            operation(&format!("delete{one}"), tag, &format!("Delete {a}"))
                .description(Some(format!(
                    "A soft delete: the {lower} leaves lists and reads but is kept. List deleted \
                     records with `?deleted=true`; `POST {item}/restore` brings one back."
                )))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            &format!("{item}/restore"),
            operation(&format!("restore{one}"), tag, &format!("Restore {a}"))
                .description(Some(format!(
                    "Brings back a deleted {lower}. One that is not deleted answers 404."
                )))
                .response("200", json_response("The restored record", one)),
            &[],
        );
        self.add(
            HttpMethod::Get,
            &format!("{item}/history"),
            operation(&format!("{lower}History"), tag, &format!("History of {a}"))
                .description(Some(
                    "Every change, oldest first: creation with the first values, one entry per \
                     changed field, deletes, restores and follow-ups.",
                ))
                .response("200", json_response("The history", "HistoryList")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            &format!("{item}/activities"),
            operation(
                &format!("list{one}Activities"),
                tag,
                &format!("Follow-ups of {a}"),
            )
            .description(Some("Newest first."))
            .response("200", json_response("The follow-ups", "ActivityList")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            &format!("{item}/activities"),
            operation(
                &format!("create{one}Activity"),
                tag,
                &format!("Log a follow-up on {a}"),
            )
            .description(Some(
                "Logs a call, email, meeting, visit, WeChat message or note with its outcome. \
                 It is recorded in the record's history; the first follow-up on a new lead moves \
                 it to `working`. A converted lead takes no more follow-ups (409).",
            ))
            .request_body(Some(json_body("ActivityInput")))
            .response("201", json_response("Logged", "Activity")),
            &[Failure::Conflict, Failure::Invalid],
        );
    }

    fn dedup(&mut self) {
        let signals = || {
            array(
                codes(
                    [
                        "phone",
                        "email",
                        "external_id",
                        "person_and_company",
                        "company",
                    ],
                    false,
                    "A signal",
                ),
                "What the records share: the same phone (E.164), the same email (any case) or \
                 the same external id — certain; the same person (`person_key`: case, width, \
                 spaces and word order ignored) at the same company (legal forms and regions \
                 ignored) — probable; or only the company — weak",
            )
        };
        let owner = || {
            response_object(
                "Who holds the record",
                vec![
                    prop("id", int64(false, "The user id")),
                    prop("username", string(false, "The username")),
                    prop("display_name", string(true, "The display name")),
                ],
            )
        };
        self.schema(
            "DuplicateCandidate",
            ObjectBuilder::new()
                .description(Some(
                    "A record a lead matches. Within your data scope it is shown whole \
                     (`visible: true`, `id`, `record`); outside it only who holds it (`owner`, \
                     null for a lead in the public pool) and whether it is protected — never its \
                     data (撞单)",
                ))
                .property(
                    "type",
                    codes(["lead", "contact", "account"], false, "The record type"),
                )
                .required("type")
                .property("signals", signals())
                .required("signals")
                .property(
                    "visible",
                    boolean("Whether the record is within your scope"),
                )
                .required("visible")
                .property("id", int64(false, "The record's id (visible records only)"))
                .property(
                    "record",
                    any("The record as its endpoint shows it (visible records only)"),
                )
                .property("owner", owner())
                .property(
                    "in_pool",
                    boolean("The lead waits in the public pool, held by nobody"),
                )
                .property(
                    "protected",
                    boolean("The holder's protection period (保护期) is running"),
                )
                .property(
                    "protected_until",
                    date_time(true, "When the protection period ends"),
                ),
        );
        self.schema(
            "DuplicateRefusal",
            response_object(
                "A lead refused by the block policy: `error.code` is `duplicate`",
                vec![
                    prop(
                        "error",
                        response_object(
                            "What went wrong",
                            vec![
                                prop("code", codes(["duplicate"], false, "Always `duplicate`")),
                                prop("message", string(false, "For people")),
                                prop("field", string(true, "Always null")),
                            ],
                        ),
                    ),
                    prop(
                        "candidates",
                        array(
                            Ref::from_schema_name("DuplicateCandidate"),
                            "The records it duplicates, strongest match first",
                        ),
                    ),
                ],
            ),
        );
        fn with_signals<'a>(name: &'a str, doc: &str) -> (&'a str, RefOr<Schema>) {
            prop(
                name,
                array(
                    any(&format!("{doc}, with its `signals`")),
                    &format!("{doc}, oldest first"),
                ),
            )
        }
        self.schema(
            "LeadDuplicates",
            response_object(
                "What a lead matches",
                vec![
                    with_signals(
                        "items",
                        "A lead within your scope with the same phone, email, or person and \
                         company (a Lead)",
                    ),
                    with_signals(
                        "contacts",
                        "A contact within your scope that matches strongly",
                    ),
                    with_signals(
                        "accounts",
                        "An account within your scope with the same phone",
                    ),
                    with_signals(
                        "same_company",
                        "A lead or account within your scope that shares only the company",
                    ),
                    prop(
                        "held_by_others",
                        array(
                            Ref::from_schema_name("DuplicateCandidate"),
                            "Strong matches outside your scope: only who holds them",
                        ),
                    ),
                ],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/leads/{id}/duplicates",
            operation("listLeadDuplicates", "leads", "What a lead duplicates")
                .description(Some(
                    "The leads, contacts and accounts that match the lead, not deleted or \
                     merged. A phone is compared in E.164 (`+86 138-0013-8000` meets \
                     `13800138000`), an email ignoring case, a name by `person_key` (`张 伟` \
                     and 张伟 meet; 章玮 and 测试2 are others) and a company by `company_key` (有限公司, Co., Ltd., \
                     （北京） do not count). A contact's company is its account's.",
                ))
                .response("200", json_response("The matches", "LeadDuplicates")),
            &[],
        );

        let policy = || codes(["block", "warn", "merge"], false, "A dedup policy");
        self.schema(
            "DedupPolicies",
            ObjectBuilder::new()
                .description(Some(
                    "Source code → policy for certain matches; `*` is the policy of every source \
                     not listed. What a new lead (API, web form, UI; an import chooses its own) \
                     that certainly matches a lead, contact or account (the same phone, email \
                     or external id; see `/api/v1/dedup/probable-policies` for the same name \
                     at the same company) does: `block` — refused with 409 and \
                     the candidates; `warn` — created with the tag `possible_duplicate` and \
                     `duplicate_of`; `merge` — its data fills the empty fields of the lead it \
                     duplicates, answered with 200, that lead and `merged: true`. Defaults: \
                     `web_form` merge, everything else warn",
                ))
                .additional_properties(Some(AdditionalProperties::RefOr(policy().into()))),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/dedup/policies",
            operation(
                "getDedupPolicies",
                "leads",
                "The dedup policy of each source",
            )
            .response("200", json_response("The policies", "DedupPolicies")),
            &[],
        );
        self.schema(
            "DedupPoliciesInput",
            ObjectBuilder::new()
                .description(Some(
                    "Source code (or `*`) → `block`, `warn`, `merge`, or null for the built-in \
                     default; sources not named keep their policy",
                ))
                .property_names(Some(
                    string(false, "A source code or `*`").pattern(Some("^([a-z0-9_]{1,40}|\\*)$")),
                ))
                .additional_properties(Some(AdditionalProperties::RefOr(
                    codes(["block", "warn", "merge"], true, "A dedup policy, or null").into(),
                ))),
        );
        self.add(
            HttpMethod::Put,
            "/api/v1/dedup/policies",
            operation("setDedupPolicies", "leads", "Set dedup policies (admins)")
                .request_body(Some(json_body("DedupPoliciesInput")))
                .response("200", json_response("The policies now", "DedupPolicies")),
            &[Failure::Invalid],
        );

        self.schema(
            "DedupProbablePolicies",
            ObjectBuilder::new()
                .description(Some(
                    "Source code → policy for probable matches; `*` is the policy of every \
                     source not listed. A probable match shares only the person's name and the \
                     company with a lead or contact (no phone, email or external id): `block`, \
                     `warn` and `merge` as for certain matches. Default: `warn` everywhere (two \
                     people may share a name at one company, so a person reviews it). An import \
                     follows the policy of each row's source unless it names `dedup_probable`",
                ))
                .additional_properties(Some(AdditionalProperties::RefOr(policy().into()))),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/dedup/probable-policies",
            operation(
                "getDedupProbablePolicies",
                "leads",
                "The dedup policy of each source for probable matches",
            )
            .response(
                "200",
                json_response("The policies", "DedupProbablePolicies"),
            ),
            &[],
        );
        self.add(
            HttpMethod::Put,
            "/api/v1/dedup/probable-policies",
            operation(
                "setDedupProbablePolicies",
                "leads",
                "Set dedup policies for probable matches (admins)",
            )
            .request_body(Some(json_body("DedupPoliciesInput")))
            .response(
                "200",
                json_response("The policies now", "DedupProbablePolicies"),
            ),
            &[Failure::Invalid],
        );

        self.schema(
            "DedupScan",
            response_object(
                "A run of the duplicate scan",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop(
                        "state",
                        codes(["queued", "running", "done", "failed"], false, "Its state"),
                    ),
                    prop(
                        "requested_by",
                        int64(true, "Who asked for it; null for the daily scan"),
                    ),
                    prop("created_at", date_time(false, "Asked for")),
                    prop("started_at", date_time(true, "Started")),
                    prop("finished_at", date_time(true, "Finished")),
                    prop("groups_found", int64(true, "Groups of duplicates found")),
                    prop("error", string(true, "Why it failed (it is retried)")),
                ],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/dedup/scan",
            operation(
                "startDedupScan",
                "leads",
                "Scan the whole base for duplicates (managers and admins)",
            )
            .description(Some(
                "Queues the job `dedup.scan`, which groups the leads that share a phone, an \
                 email, or a person and company, directly or through each other. A scan \
                 already queued or running is answered instead of a new one. It also runs \
                 daily.",
            ))
            .response("202", json_response("Queued", "DedupScan")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/dedup/scan",
            operation("getDedupScan", "leads", "The latest duplicate scan").response(
                "200",
                ResponseBuilder::new()
                    .description("`{\"scan\": DedupScan or null}`")
                    .content(
                        "application/json",
                        Content::new(Some(response_object(
                            "The latest scan",
                            vec![prop("scan", Ref::from_schema_name("DedupScan"))],
                        ))),
                    ),
            ),
            &[],
        );
        self.schema(
            "DuplicateGroup",
            response_object(
                "A group of leads that are duplicates of each other",
                vec![
                    prop("id", int64(false, "The group's id")),
                    prop("signals", signals()),
                    prop("size", int64(false, "Its leads within your scope")),
                    prop(
                        "leads",
                        array(
                            Ref::from_schema_name("Lead"),
                            "Its leads within your scope, oldest first (at most 100)",
                        ),
                    ),
                ],
            ),
        );
        self.schema(
            "DuplicateGroups",
            response_object(
                "A page of duplicate groups",
                vec![
                    prop(
                        "items",
                        array(
                            Ref::from_schema_name("DuplicateGroup"),
                            "Groups with at least two leads within your scope",
                        ),
                    ),
                    prop("next_cursor", string(true, "The cursor of the next page")),
                    prop("scan", Ref::from_schema_name("DedupScan")),
                ],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/dedup/groups",
            operation("listDuplicateGroups", "leads", "Groups of duplicate leads")
                .description(Some(
                    "The groups the last scan found that have at least two leads (not deleted \
                     or merged since) within your data scope, with only those leads.",
                ))
                .parameter(query(
                    "limit",
                    "Groups per page, 1–200 (default 50)",
                    int64(false, "A count").minimum(Some(1)).maximum(Some(200)),
                ))
                .parameter(query(
                    "cursor",
                    "`next_cursor` of the previous page",
                    id_cursor(),
                ))
                .response("200", json_response("The groups", "DuplicateGroups")),
            &[Failure::Invalid],
        );

        self.schema(
            "LeadMergeInput",
            request_object(
                "A merge",
                vec![
                    prop("survivor_id", int64(false, "The lead that stays")),
                    prop(
                        "merged_ids",
                        array(int64(false, "A lead id"), "The leads merged into it (1–50)")
                            .min_items(Some(1)),
                    ),
                    prop(
                        "fields",
                        ObjectBuilder::new()
                            .description(Some(
                                "Field name (or `custom.KEY`) → the id of the lead whose value \
                                 it takes. Other fields keep the survivor's value; an empty one \
                                 is filled from the merged leads in the order given. Tags are \
                                 united.",
                            ))
                            .additional_properties(Some(AdditionalProperties::RefOr(
                                int64(false, "A lead id").into(),
                            ))),
                    ),
                ],
                &["survivor_id", "merged_ids"],
            ),
        );
        self.schema(
            "LeadMerge",
            response_object(
                "A merge done",
                vec![
                    prop(
                        "merge_id",
                        int64(false, "Undo it with POST /api/v1/leads/merges/{id}/undo"),
                    ),
                    prop("survivor", Ref::from_schema_name("Lead")),
                    prop(
                        "merged_ids",
                        array(int64(false, "A lead id"), "The leads archived into it"),
                    ),
                    prop(
                        "moved",
                        ObjectBuilder::new()
                            .description(Some(
                                "Rows moved to the survivor, by table (activities, history, \
                                 opportunities)",
                            ))
                            .additional_properties(Some(AdditionalProperties::RefOr(
                                int64(false, "A count").into(),
                            ))),
                    ),
                ],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/leads/merge",
            operation("mergeLeads", "leads", "Merge leads into one")
                .description(Some(
                    "In one transaction: the survivor takes the chosen values, fills its empty \
                     fields and unites the tags; the merged leads' activities, history and \
                     opportunities move to it; the merged leads are archived (soft-deleted \
                     with `merged_into`; `?deleted=true` lists them), never deleted. Every lead \
                     must be within your data scope (404) and none converted (409). Raises \
                     `lead.merged`; the owners of merged leads are notified.",
                ))
                .request_body(Some(json_body("LeadMergeInput")))
                .response("200", json_response("Merged", "LeadMerge")),
            &[Failure::NotFound, Failure::Conflict, Failure::Invalid],
        );
        self.schema(
            "LeadUnmerge",
            response_object(
                "A merge undone",
                vec![
                    prop("merge_id", int64(false, "The merge")),
                    prop("survivor", Ref::from_schema_name("Lead")),
                    prop(
                        "restored",
                        array(Ref::from_schema_name("Lead"), "The merged leads, back"),
                    ),
                    prop(
                        "kept",
                        array(
                            string(false, "A field"),
                            "Survivor fields changed since the merge, which keep their newer \
                             value",
                        ),
                    ),
                ],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/leads/merges/{id}/undo",
            operation("undoLeadMerge", "leads", "Undo a merge")
                .description(Some(
                    "Brings the merged leads back, moves their activities, history and \
                     opportunities back, and gives each survivor field the merge changed its \
                     old value, unless it changed since. The survivor must be within your data \
                     scope. A merge undone already, or whose leads changed state since (the \
                     survivor deleted, converted or merged again, a merged lead restored), is a \
                     409.",
                ))
                .response("200", json_response("Undone", "LeadUnmerge")),
            &[Failure::Conflict],
        );

        // Creating a lead answers differently when the dedup policy refuses or merges it.
        if let Some(create) = self
            .paths
            .paths
            .get_mut("/api/v1/leads")
            .and_then(|item| item.post.as_mut())
        {
            let responses = &mut create.responses.responses;
            responses.insert(
                "200".into(),
                json_response(
                    "Merged into the lead it duplicates (dedup policy merge): that lead, with \
                     `merged: true`",
                    "Lead",
                )
                .build()
                .into(),
            );
            responses.insert(
                "409".into(),
                json_response(
                    "Refused as a duplicate (dedup policy block), with the candidates",
                    "DuplicateRefusal",
                )
                .build()
                .into(),
            );
        }
    }

    fn activities(&mut self) {
        let record_types = [
            RecordType::Lead,
            RecordType::Account,
            RecordType::Contact,
            RecordType::Opportunity,
        ]
        .map(RecordType::code);
        let types = ActivityType::ALL.iter().map(|t| t.code());
        let outcomes = || Outcome::ALL.iter().map(|o| o.code());
        self.schema(
            "Activity",
            response_object(
                "A follow-up (跟进记录)",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop(
                        "external_id",
                        string(
                            true,
                            "Its id in the system it was imported from, if it was imported",
                        ),
                    ),
                    prop(
                        "record_type",
                        codes(record_types, false, "The kind of record it is logged on"),
                    ),
                    prop("record_id", int64(false, "The record it is logged on")),
                    prop(
                        "type",
                        codes(types.clone(), false, "What kind of follow-up"),
                    ),
                    prop(
                        "outcome",
                        codes(outcomes(), true, "What it achieved (推进结果)"),
                    ),
                    prop("content", string(true, "What was said or done")),
                    prop(
                        "next_follow_up_at",
                        date_time(true, "When to follow up next"),
                    ),
                    prop("owner_id", int64(true, "The user who logged it")),
                    prop("created_by", int64(true, "The user who wrote it down")),
                    prop("created_at", date_time(false, "When it was logged")),
                    prop("updated_at", date_time(false, "When it last changed")),
                ],
            ),
        );
        let fields = || {
            vec![
                prop(
                    "type",
                    codes(types.clone(), false, "What kind of follow-up"),
                ),
                prop(
                    "outcome",
                    codes(outcomes(), true, "What it achieved (推进结果)"),
                ),
                prop(
                    "content",
                    text(true, false, 10_000, "What was said or done"),
                ),
                prop(
                    "next_follow_up_at",
                    date_time(
                        true,
                        "When to follow up next, RFC 3339 (2026-12-01T09:00:00+08:00)",
                    ),
                ),
            ]
        };
        self.schema(
            "ActivityInput",
            request_object("A new follow-up", fields(), &["type"]),
        );
        self.schema(
            "ActivityPatch",
            request_object("Changes to a follow-up", fields(), &[]),
        );
        self.schema("ActivityList", items("Follow-ups", "Activity"));

        let channels = [
            Channel::Ui,
            Channel::Api,
            Channel::Import,
            Channel::Rule,
            Channel::Job,
        ]
        .map(Channel::code);
        self.schema(
            "HistoryEntry",
            response_object(
                "One entry of a record's audit history",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop(
                        "action",
                        string(
                            false,
                            "What happened: create, update, delete, restore, activity, …",
                        ),
                    ),
                    prop(
                        "field",
                        string(true, "The changed field, for an update; else null"),
                    ),
                    prop("old_value", any("The value before, as JSON")),
                    prop(
                        "new_value",
                        any("The value after, as JSON; for a create, the first values"),
                    ),
                    prop("actor_id", int64(true, "The user who did it")),
                    prop("actor", string(true, "That user's username")),
                    prop(
                        "channel",
                        codes(channels, false, "Through what it happened"),
                    ),
                    prop("at", date_time(false, "When")),
                ],
            ),
        );
        self.schema("HistoryList", items("A record's history", "HistoryEntry"));

        let tag = "activities";
        self.add(
            HttpMethod::Get,
            "/api/v1/activities/export",
            operation("exportActivities", tag, "Export follow-ups as CSV or XLSX")
                .description(Some(
                    "Every follow-up logged on a lead, account, contact or opportunity that you \
                     can see (and that is not deleted), oldest first, with the kind and id of its \
                     record (记录类型, 记录编号), so that it can be imported elsewhere beside \
                     the records' own exports. CSV (UTF-8 with a byte order mark) or XLSX; times \
                     are UTC; formula-like text is neutralised. Recorded in `GET /api/v1/exports` \
                     as record type `activity`.",
                ))
                .parameters(Some(vec![
                    format_parameter(),
                    query(
                        "record_type",
                        "Only the follow-ups on this kind of record",
                        codes(record_types, false, "A record type"),
                    )
                    .build(),
                    query(
                        "type",
                        "Only this kind of follow-up",
                        codes(ActivityType::ALL.iter().map(|t| t.code()), false, "A type"),
                    )
                    .build(),
                ]))
                .response("200", export_file()),
            &[Failure::BadRequest, Failure::Invalid],
        );
        let path = "/api/v1/activities/{id}";
        self.add(
            HttpMethod::Get,
            path,
            operation("getActivity", tag, "Get a follow-up")
                .response("200", json_response("The follow-up", "Activity")),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            path,
            operation("updateActivity", tag, "Change a follow-up")
                .description(Some("Only its author or an admin may change it."))
                .request_body(Some(json_body("ActivityPatch")))
                .response("200", json_response("The changed follow-up", "Activity")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            path,
            operation("deleteActivity", tag, "Delete a follow-up")
                .description(Some("Only its author or an admin may delete it."))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
    }

    fn users(&mut self) {
        let roles = || [Role::Admin, Role::Manager, Role::Rep].map(Role::code);
        let locales = || ["zh", "en"];
        self.schema(
            "User",
            some_required(
                "A user; never the password. Of other users, managers and reps get only the \
                 fields needed to pick an owner (id, username, display_name, role, team_id, \
                 active); admins and the user themselves get all",
                &[
                    "id",
                    "username",
                    "display_name",
                    "role",
                    "team_id",
                    "active",
                ],
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("username", string(false, "Sign-in name")),
                    prop("display_name", string(true, "Name shown to others")),
                    prop("email", string(true, "Email address")),
                    prop(
                        "role",
                        codes(roles(), false, "Role; decides the data scope"),
                    ),
                    prop("team_id", int64(true, "The team in the org tree")),
                    prop("locale", codes(locales(), false, "Language of the UI")),
                    prop("active", boolean("False when the account is disabled")),
                    prop(
                        "mask_phones",
                        boolean("Sees phone numbers masked (138****5678) everywhere"),
                    ),
                    prop(
                        "time_zone",
                        string(
                            false,
                            "IANA time zone the UI shows times in; Asia/Shanghai unless chosen",
                        ),
                    ),
                    prop("created_at", date_time(false, "When it was created")),
                    prop("updated_at", date_time(false, "When it last changed")),
                ],
            ),
        );
        self.schema(
            "UserInput",
            request_object(
                "A new user",
                vec![
                    prop(
                        "username",
                        string(false, "2–64 letters, digits, '.', '_', '-' or '@'")
                            .min_length(Some(2))
                            .max_length(Some(64)),
                    ),
                    prop(
                        "password",
                        string(false, "At least 8 characters")
                            .min_length(Some(8))
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
                    ),
                    prop("role", codes(roles(), false, "Role")),
                    prop("team_id", int64(true, "An existing team")),
                    prop(
                        "display_name",
                        text(true, true, 100, "Name shown to others"),
                    ),
                    prop("email", string(true, "Email address")),
                    prop(
                        "locale",
                        codes(locales(), false, "Language of the UI; default zh"),
                    ),
                ],
                &["username", "password", "role"],
            ),
        );
        self.schema(
            "UserPatch",
            request_object(
                "Changes to a user. Anyone may change their own name, email, locale and time zone \
                 (their own password only with POST /api/v1/me/password, giving the current one); \
                 only an admin may change role, team, active and mask_phones, or another user, \
                 whose password they may set. The last active admin cannot be demoted or \
                 deactivated (409). A new password ends all the user's sessions, and so does \
                 deactivation, after which their API tokens stop working too",
                vec![
                    prop(
                        "display_name",
                        text(true, true, 100, "Name shown to others"),
                    ),
                    prop("email", string(true, "Email address")),
                    prop("locale", codes(locales(), false, "Language of the UI")),
                    prop(
                        "time_zone",
                        string(false, "An IANA time zone such as Asia/Shanghai"),
                    ),
                    prop(
                        "password",
                        string(false, "At least 8 characters")
                            .min_length(Some(8))
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
                    ),
                    prop("role", codes(roles(), false, "Role")),
                    prop("team_id", int64(true, "An existing team")),
                    prop("active", boolean("False disables the account")),
                    prop(
                        "mask_phones",
                        boolean("Show this user phone numbers masked (admin only)"),
                    ),
                ],
                &[],
            ),
        );
        self.schema("UserList", items("Users, by username", "User"));

        let tag = "users";
        let filters = vec![
            query(
                "role",
                "Only users with this role",
                codes(roles(), false, "Role"),
            ),
            query(
                "team_id",
                "Only members of this team",
                int64(false, "A team id"),
            ),
            query(
                "active",
                "Only active (`true`) or disabled (`false`) users",
                boolean("Active"),
            ),
        ];
        self.add(
            HttpMethod::Get,
            "/api/v1/users",
            operation("listUsers", tag, "List users")
                .parameters(Some(filters.into_iter().map(ParameterBuilder::build)))
                .response("200", json_response("Every user", "UserList")),
            &[Failure::BadRequest, Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/users",
            operation("createUser", tag, "Create a user")
                .description(Some("Admins only."))
                .request_body(Some(json_body("UserInput")))
                .response("201", json_response("Created", "User")),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/users/{id}",
            operation("getUser", tag, "Get a user")
                .response("200", json_response("The user", "User")),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/users/{id}",
            operation("updateUser", tag, "Change a user")
                .request_body(Some(json_body("UserPatch")))
                .response("200", json_response("The changed user", "User")),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.schema(
            "SignInUnlock",
            response_object(
                "The result of lifting a user's sign-in throttles",
                vec![prop(
                    "unlocked",
                    boolean("Whether any throttle was in force"),
                )],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/users/{id}/unlock",
            operation("unlockUserSignIn", tag, "Lift a user's sign-in throttles")
                .description(Some(
                    "Admins only. Failed sign-ins are throttled per username at an address and \
                     per address (docs/SECURITY.md); this lifts the user's throttles at every \
                     address on the instance that answers.",
                ))
                .response("200", json_response("Done", "SignInUnlock")),
            &[],
        );
    }

    fn teams(&mut self) {
        let kinds = || {
            [
                TeamKind::Headquarters,
                TeamKind::Region,
                TeamKind::Branch,
                TeamKind::Team,
            ]
            .map(TeamKind::code)
        };
        self.schema(
            "Team",
            response_object(
                "A node of the org tree (组织架构)",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("name", string(false, "Unique name")),
                    prop("kind", codes(kinds(), false, "Level in the org tree")),
                    prop("parent_id", int64(true, "The team above; null at the top")),
                    prop("created_at", date_time(false, "When it was created")),
                    prop("updated_at", date_time(false, "When it last changed")),
                ],
            ),
        );
        let fields = || {
            vec![
                prop("name", text(false, true, 100, "Unique name")),
                prop(
                    "parent_id",
                    int64(true, "The team above; null or absent for a top-level team"),
                ),
                prop(
                    "kind",
                    codes(
                        kinds(),
                        false,
                        "Level in the org tree; by default team below a parent, else \
                         headquarters",
                    ),
                ),
            ]
        };
        self.schema(
            "TeamInput",
            request_object("A new team", fields(), &["name"]),
        );
        self.schema(
            "TeamPatch",
            request_object("Changes to a team", fields(), &[]),
        );
        self.schema("TeamList", items("Every team", "Team"));

        let tag = "teams";
        self.add(
            HttpMethod::Get,
            "/api/v1/teams",
            operation("listTeams", tag, "List teams")
                .response("200", json_response("Every team", "TeamList")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/teams",
            operation("createTeam", tag, "Create a team")
                .description(Some("Admins only."))
                .request_body(Some(json_body("TeamInput")))
                .response("201", json_response("Created", "Team")),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/teams/{id}",
            operation("getTeam", tag, "Get a team")
                .response("200", json_response("The team", "Team")),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/teams/{id}",
            operation("updateTeam", tag, "Change a team")
                .description(Some("Admins only. A team cannot be moved below itself."))
                .request_body(Some(json_body("TeamPatch")))
                .response("200", json_response("The changed team", "Team")),
            &[Failure::Conflict, Failure::Invalid],
        );
    }

    fn tokens(&mut self) {
        const SCOPES: [&str; 3] = ["read_only", "read_write", "admin"];
        const SCOPE_TEXT: &str = "read_only: reads only, every write is refused (403); \
             read_write: reads and writes what its user may, but nothing admin-only; \
             admin: all its user's role allows";
        self.schema(
            "Token",
            response_object(
                "An API token, without its secret",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("name", string(false, "What it is for")),
                    prop("scope", codes(SCOPES, false, SCOPE_TEXT)),
                    prop("created_at", date_time(false, "When it was created")),
                    prop("revoked_at", date_time(true, "When it was revoked")),
                ],
            ),
        );
        self.schema("TokenList", items("Your tokens", "Token"));
        self.schema(
            "TokenInput",
            request_object(
                "A new token",
                vec![
                    prop(
                        "name",
                        text(true, true, 100, "What it is for; default `api`"),
                    ),
                    prop(
                        "scope",
                        codes(
                            SCOPES,
                            true,
                            "What the token may do; default read_write. Only an admin may create \
                             an admin token, and no token may create one that may do more than itself",
                        ),
                    ),
                ],
                &[],
            ),
        );
        self.schema(
            "NewToken",
            response_object(
                "A new token with its secret, shown only this once",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("name", string(false, "What it is for")),
                    prop("scope", codes(SCOPES, false, SCOPE_TEXT)),
                    prop(
                        "token",
                        string(false, "The secret, for `Authorization: Bearer TOKEN`"),
                    ),
                    prop("created_at", date_time(false, "When it was created")),
                ],
            ),
        );

        let tag = "tokens";
        self.add(
            HttpMethod::Get,
            "/api/v1/tokens",
            operation("listTokens", tag, "List your API tokens")
                .response("200", json_response("Your tokens", "TokenList")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/tokens",
            operation("createToken", tag, "Create an API token")
                .description(Some(
                    "The secret is in the response and nowhere else, ever.",
                ))
                .request_body(Some(json_body("TokenInput")))
                .response("201", json_response("Created", "NewToken")),
            &[Failure::Forbidden, Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/tokens/{id}",
            operation("revokeToken", tag, "Revoke an API token")
                .description(Some(
                    "Your own tokens; an admin may revoke anyone's. It stops working at once. \
                     The last admin-scope token of the last active admin cannot be revoked \
                     until another is created (409).",
                ))
                .response("204", ResponseBuilder::new().description("Revoked")),
            &[Failure::Conflict],
        );
    }

    fn audit(&mut self) {
        let kinds: Vec<&str> = audit::Setting::ALL.iter().map(|k| k.code()).collect();
        let actions = [
            "create",
            "update",
            "delete",
            "reorder",
            "revoke",
            "reset_password",
            "change_password",
        ];
        let results = ["succeeded", "failed", "throttled"];
        let someone = |doc: &str| {
            response_object(
                doc,
                vec![
                    prop("id", int64(true, "The id; null for a singleton setting")),
                    prop("name", string(false, "The name; empty when it has none")),
                ],
            )
        };
        self.schema(
            "AuditEntry",
            response_object(
                "One change of a setting: who, when, what, and the record before and after",
                vec![
                    prop(
                        "id",
                        int64(false, "Unique id; newer entries have larger ones"),
                    ),
                    prop("at", date_time(false, "When")),
                    prop(
                        "actor",
                        someone("Who: a user (name empty and id null for the command line)"),
                    ),
                    prop("kind", codes(kinds.clone(), false, "What kind of setting")),
                    prop("subject", someone("Which record of that kind")),
                    prop("action", codes(actions, false, "What was done")),
                    prop(
                        "before",
                        any(
                            "The record before, as stored (times as RFC 3339, secrets as \
                             fingerprints); null when it was created",
                        ),
                    ),
                    prop("after", any("The record after; null when it was deleted")),
                ],
            ),
        );
        self.schema(
            "LoginAttempt",
            response_object(
                "One sign-in attempt with a password",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("at", date_time(false, "When")),
                    prop(
                        "user_id",
                        int64(true, "The user with the name given, if any"),
                    ),
                    prop("username", string(false, "The name given")),
                    prop("address", string(false, "The client's IP address")),
                    prop("user_agent", string(false, "The client's User-Agent")),
                    prop("result", codes(results, false, "How it ended")),
                ],
            ),
        );
        for (name, item, doc) in [
            (
                "AuditList",
                "AuditEntry",
                "One page of settings changes, newest first",
            ),
            (
                "LoginList",
                "LoginAttempt",
                "One page of sign-in attempts, newest first",
            ),
        ] {
            self.schema(
                name,
                ObjectBuilder::new()
                    .description(Some(doc))
                    .property("items", array(Ref::from_schema_name(item), doc))
                    .property(
                        "next_cursor",
                        string(
                            true,
                            "Pass as `cursor` for the next page; null on the last page",
                        ),
                    )
                    .required("items")
                    .required("next_cursor"),
            );
        }
        let paging = || {
            [
                query(
                    "from",
                    "From this date (China time) or RFC 3339 instant",
                    date_or_time("YYYY-MM-DD or RFC 3339"),
                ),
                query(
                    "to",
                    "Up to this date (included) or instant",
                    date_or_time("YYYY-MM-DD or RFC 3339"),
                ),
                query(
                    "limit",
                    "How many per page",
                    scalar(Type::Integer, false, "Page size")
                        .minimum(Some(1))
                        .maximum(Some(200))
                        .default(Some(json!(50))),
                ),
                query(
                    "cursor",
                    "The `next_cursor` of the previous page",
                    id_cursor(),
                ),
            ]
        };
        let tag = "audit";
        let mut filters = vec![
            query(
                "kind",
                "Only this kind of setting",
                codes(kinds, false, "Kind"),
            ),
            query(
                "actor",
                "Only changes by this user",
                int64(false, "A user id"),
            ),
            query(
                "subject",
                "Only changes of the record with this id (with `kind`)",
                int64(false, "A record id"),
            ),
        ];
        filters.extend(paging());
        self.add(
            HttpMethod::Get,
            "/api/v1/audit",
            operation("listAudit", tag, "List settings changes")
                .description(Some(
                    "The audit log of settings (admins only): every change to users, teams, \
                     API tokens, custom fields, pipeline stages, checklists, scoring and \
                     assignment rules and settings, availability, pools, recycle and SLA \
                     rules, working hours, web forms, webhooks, dedup policies, channel spend \
                     and targets, written in the change's own transaction.",
                ))
                .parameters(Some(filters.into_iter().map(ParameterBuilder::build)))
                .response("200", json_response("One page", "AuditList")),
            &[Failure::Forbidden, Failure::Invalid],
        );
        let mut filters = vec![
            query(
                "user",
                "Only attempts for this user",
                int64(false, "A user id"),
            ),
            query(
                "result",
                "Only attempts that ended so",
                codes(results, false, "Result"),
            ),
        ];
        filters.extend(paging());
        self.add(
            HttpMethod::Get,
            "/api/v1/audit/logins",
            operation("listLogins", tag, "List sign-in attempts")
                .description(Some(
                    "The login history (admins only): every sign-in with a password, through \
                     the web page or `POST /api/v1/auth/login`, successful or not.",
                ))
                .parameters(Some(filters.into_iter().map(ParameterBuilder::build)))
                .response("200", json_response("One page", "LoginList")),
            &[Failure::Forbidden, Failure::Invalid],
        );
    }

    fn exports(&mut self) {
        self.schema(
            "Export",
            response_object(
                "One export: who, what, how many rows",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("user_id", int64(false, "Who exported")),
                    prop("username", string(true, "Their username")),
                    prop(
                        "record_type",
                        codes(
                            [
                                "lead",
                                "account",
                                "contact",
                                "opportunity",
                                "activity",
                                "person",
                            ],
                            false,
                            "What was exported",
                        ),
                    ),
                    prop(
                        "filters",
                        any("The list parameters the export was made with, by name"),
                    ),
                    prop("format", codes(["csv", "xlsx"], false, "File format")),
                    prop("rows", int64(false, "How many records the file holds")),
                    prop(
                        "channel",
                        codes(
                            ["ui", "api", "import", "rule", "job"],
                            false,
                            "How it was made; `job` for the command line",
                        ),
                    ),
                    prop("at", date_time(false, "When")),
                ],
            ),
        );
        self.schema(
            "ExportList",
            ObjectBuilder::new()
                .description(Some("One page of exports, newest first"))
                .property(
                    "items",
                    array(Ref::from_schema_name("Export"), "The exports"),
                )
                .property(
                    "next_cursor",
                    string(
                        true,
                        "Pass as `cursor` for the next page; null on the last page",
                    ),
                )
                .required("items")
                .required("next_cursor"),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/exports",
            operation("listExports", "exports", "List exports")
                .description(Some(
                    "The export audit (PIPL/GDPR: who exported what): an admin sees every \
                     export, anyone else their own.",
                ))
                .parameters(Some(vec![
                    query(
                        "limit",
                        "How many exports per page",
                        scalar(Type::Integer, false, "Page size")
                            .minimum(Some(1))
                            .maximum(Some(500))
                            .default(Some(json!(50))),
                    )
                    .build(),
                    query(
                        "cursor",
                        "The `next_cursor` of the previous page",
                        id_cursor(),
                    )
                    .build(),
                ]))
                .response("200", json_response("One page", "ExportList")),
            &[Failure::Invalid],
        );
    }

    fn custom_fields(&mut self) {
        let objects = || {
            [
                RecordType::Lead,
                RecordType::Account,
                RecordType::Contact,
                RecordType::Opportunity,
            ]
            .map(RecordType::code)
        };
        let field_types = || {
            [
                FieldType::Text,
                FieldType::Number,
                FieldType::Date,
                FieldType::SingleSelect,
                FieldType::MultiSelect,
                FieldType::Boolean,
            ]
            .map(FieldType::code)
        };
        let options = || {
            array(
                string(false, "An option").max_length(Some(100)),
                "The choices of a select field",
            )
        };
        self.schema(
            "CustomField",
            some_required(
                "The definition of a custom field, kept in a record's `custom` object",
                &[
                    "id",
                    "object",
                    "key",
                    "label",
                    "field_type",
                    "options",
                    "required",
                    "position",
                    "created_at",
                ],
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("object", codes(objects(), false, "The record type")),
                    prop("key", string(false, "The key in `custom`")),
                    prop("label", string(false, "Shown in the UI")),
                    prop("field_type", codes(field_types(), false, "Value type")),
                    prop("options", options()),
                    prop("required", boolean("Must be given on create")),
                    prop(
                        "position",
                        int64(false, "Order in forms and lists; lower first, then by id"),
                    ),
                    prop(
                        "records_with_value",
                        int64(
                            false,
                            "How many records (not deleted) hold a value for it: what deleting \
                             it would hide. Only in GET /api/v1/custom-fields/{id}",
                        ),
                    ),
                    prop("created_at", date_time(false, "When it was created")),
                ],
            ),
        );
        self.schema(
            "CustomFieldPatch",
            request_object(
                "Changes to a custom field. The record type, key and field type are fixed, since \
                 records store values under the key; stored values stay as they are",
                vec![
                    prop("label", text(false, true, 100, "Shown in the UI")),
                    prop(
                        "options",
                        options()
                            .schema_type(typed(Type::Array, true))
                            .description(Some(
                            "The choices of a select field, distinct; refused for others; null \
                             keeps them",
                        )),
                    ),
                    prop(
                        "required",
                        boolean("Must be given on every create and change"),
                    ),
                    prop(
                        "position",
                        int64(false, "Order, 0 to 1000000; lower first")
                            .minimum(Some(0))
                            .maximum(Some(1_000_000)),
                    ),
                ],
                &[],
            ),
        );
        self.schema(
            "CustomFieldInput",
            request_object(
                "A new custom field",
                vec![
                    prop("object", codes(objects(), false, "The record type")),
                    prop(
                        "key",
                        field_key("The key in `custom`, unique per record type"),
                    ),
                    prop("label", text(false, true, 100, "Shown in the UI")),
                    prop("field_type", codes(field_types(), false, "Value type")),
                    prop(
                        "options",
                        options().description(Some(
                            "The choices; required for select fields, refused for others",
                        )),
                    ),
                    prop(
                        "required",
                        boolean("Must be given on create; default false"),
                    ),
                ],
                &["object", "key", "label", "field_type"],
            ),
        );
        self.schema(
            "CustomFieldList",
            items("Every definition, by record type", "CustomField"),
        );

        let tag = "custom-fields";
        self.add(
            HttpMethod::Get,
            "/api/v1/custom-fields",
            operation("listCustomFields", tag, "List custom field definitions")
                .response("200", json_response("Every definition", "CustomFieldList")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/custom-fields",
            operation("createCustomField", tag, "Define a custom field")
                .description(Some("Admins only."))
                .request_body(Some(json_body("CustomFieldInput")))
                .response("201", json_response("Created", "CustomField")),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/custom-fields/{id}",
            operation("getCustomField", tag, "Get a custom field definition")
                .description(Some(
                    "With `records_with_value`, how many records hold a value for it.",
                ))
                .response("200", json_response("The definition", "CustomField")),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/custom-fields/{id}",
            operation("updateCustomField", tag, "Change a custom field")
                .description(Some("Admins only."))
                .request_body(Some(json_body("CustomFieldPatch")))
                .response(
                    "200",
                    json_response("The changed definition", "CustomField"),
                ),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/custom-fields/{id}",
            operation("deleteCustomField", tag, "Delete a custom field")
                .description(Some(
                    "Admins only. The values records hold for it are kept in their `custom` \
                     object and history, but no page, filter, rule, import or check uses them; \
                     a new field with the same key and type shows them again.",
                ))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
    }

    /// Web forms: the admin API and the public endpoint visitors post to.
    fn forms(&mut self) {
        use xiansuo_app::channels::forms::{
            SUBMISSION_STATUSES, TEMPLATE_VARIABLES, UTM_PARAMETERS,
        };
        let languages = || codes(["zh", "en"], false, "zh or en");
        let policies = || {
            codes(
                ["block", "warn", "merge"],
                true,
                "What a post from someone already held does (see /api/v1/dedup/policies); \
                 null: the policy of the form's source",
            )
        };
        let variables = TEMPLATE_VARIABLES
            .iter()
            .map(|v| format!("{{{{{v}}}}}"))
            .collect::<Vec<_>>()
            .join(", ");
        let template = |what: &str| {
            string(true, &format!("{what}; may use {variables}")).max_length(Some(20_000))
        };
        self.schema(
            "FormField",
            request_object(
                "A field the form asks for",
                vec![
                    prop(
                        "field",
                        string(
                            false,
                            "A lead field (name, company, title, phone, email, industry, \
                             province, city, company_size, description) or custom.KEY of a \
                             lead custom field",
                        )
                        .pattern(Some(
                            "^(name|company|title|phone|email|industry|province|city|\
                             company_size|description|custom\\.[a-z][a-z0-9_]{0,39})$",
                        )),
                    ),
                    prop("required", boolean("Must be filled in; default false")),
                    prop(
                        "label_zh",
                        string(true, "The Chinese label; default: the field's"),
                    ),
                    prop(
                        "label_en",
                        string(true, "The English label; default: the field's"),
                    ),
                ],
                &["field"],
            ),
        );
        let auto_reply = || {
            request_object(
                "The email sent to whoever fills in the form (needs the form to ask for email)",
                vec![
                    prop("enabled", boolean("Send it; default false")),
                    prop("subject_zh", template("The Chinese subject")),
                    prop("body_zh", template("The Chinese plain-text body")),
                    prop("subject_en", template("The English subject")),
                    prop("body_en", template("The English plain-text body")),
                ],
                &[],
            )
        };
        let localized = |doc: &str| {
            request_object(
                doc,
                vec![
                    prop("zh", string(true, "In Chinese")),
                    prop("en", string(true, "In English")),
                ],
                &[],
            )
        };
        let consent = |response: bool| {
            let mut properties = vec![
                prop(
                    "text_zh",
                    string(true, "The text next to the checkbox, in Chinese"),
                ),
                prop(
                    "text_en",
                    string(true, "The text next to the checkbox, in English"),
                ),
                prop("required", boolean("The box must be ticked; default true")),
            ];
            if response {
                properties.push(prop(
                    "version",
                    int64(false, "Goes up by one whenever the text changes"),
                ));
            }
            request_object("The consent checkbox, or null for none", properties, &[])
                .schema_type(typed(Type::Object, true))
        };
        let settings = |creating: bool| {
            let properties = vec![
                prop("name", text(false, true, 200, "Shown as the page title")),
                prop("language", languages().description(Some("The form's language; default zh"))),
                prop(
                    "fields",
                    array(Ref::from_schema_name("FormField"), "The fields, in order; at least one of name, email, phone")
                        .min_items(Some(1)),
                ),
                prop("source", code_schema(CodeSet::Source, false, "The leads' source; default web_form")),
                prop("campaign", string(true, "The leads' campaign (市场活动)").max_length(Some(200))),
                prop("dedup_policy", policies()),
                prop("owner_id", int64(true, "Who owns the leads; null: the assignment rules decide")),
                prop("auto_reply", auto_reply()),
                prop("thank_you", localized("What a visitor sees after posting; default a standard thank-you")),
                prop("redirect_url", string(true, "Send a browser here after posting instead (http or https)")),
                prop(
                    "allowed_origins",
                    array(string(false, "https://www.example.com"), "Sites whose pages and scripts may post the form (CORS); empty: plain form posts from anywhere, no script answers"),
                ),
                prop("consent", consent(false)),
                prop("active", boolean("Takes posts; default true")),
            ];
            request_object(
                if creating {
                    "A new web form"
                } else {
                    "Changes to a web form; a nested object is replaced as a whole"
                },
                properties,
                if creating { &["name", "fields"] } else { &[] },
            )
        };
        self.schema("FormInput", settings(true));
        self.schema("FormChange", settings(false));
        self.schema(
            "Form",
            response_object(
                "A web form (its settings as in FormInput, and these)",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("key", string(false, "The random public key in its address")),
                    prop(
                        "public_path",
                        string(false, "/f/{key}: its page and where it posts"),
                    ),
                    prop("name", string(false, "Its name")),
                    prop("language", languages()),
                    prop(
                        "fields",
                        array(Ref::from_schema_name("FormField"), "The fields"),
                    ),
                    prop(
                        "source",
                        code_schema(CodeSet::Source, false, "The leads' source"),
                    ),
                    prop("campaign", string(true, "The leads' campaign")),
                    prop("dedup_policy", policies()),
                    prop("owner_id", int64(true, "Who owns the leads")),
                    prop("auto_reply", auto_reply()),
                    prop("thank_you", localized("The thank-you message")),
                    prop(
                        "redirect_url",
                        string(true, "Where browsers go after posting"),
                    ),
                    prop(
                        "allowed_origins",
                        array(string(false, "An origin"), "Allowed origins"),
                    ),
                    prop("consent", consent(true)),
                    prop("active", boolean("Takes posts")),
                    prop(
                        "created_by",
                        int64(true, "The admin who made it; leads are created as them"),
                    ),
                    prop("created_at", date_time(false, "When it was made")),
                    prop("updated_at", date_time(false, "When it last changed")),
                ],
            ),
        );
        self.schema("FormList", items("Every web form", "Form"));
        self.schema(
            "FormEmbed",
            response_object(
                "HTML to paste into a page of another site",
                vec![
                    prop("url", string(false, "The form's public address")),
                    prop("language", languages()),
                    prop(
                        "html",
                        string(false, "A plain <form> posting to url; no script"),
                    ),
                ],
            ),
        );
        let mut submission = vec![
            prop("id", int64(false, "Unique id")),
            prop("form_id", int64(false, "The form")),
            prop("lead_id", int64(true, "The lead made (or merged into); null for spam, blocked or failed")),
            prop("status", codes(SUBMISSION_STATUSES.iter().copied(), false, "pending, created, merged (into an existing lead by the dedup policy), blocked (by the dedup policy), spam (the honeypot was filled), failed")),
            prop("client_ip", string(false, "The visitor's address")),
            prop("user_agent", string(true, "The visitor's browser")),
            prop("language", languages()),
            prop("values", any("The form's fields as posted")),
            prop("extra", any("Fields the form does not know, kept as posted")),
        ];
        for utm in UTM_PARAMETERS {
            submission.push(prop(utm, string(true, "From the post")));
        }
        submission.extend([
            prop(
                "referrer",
                string(true, "The referrer field, else the Referer header"),
            ),
            prop(
                "consent",
                response_object(
                    "The consent given",
                    vec![
                        prop("given", boolean("The box was ticked")),
                        prop("at", date_time(true, "When")),
                        prop("version", int64(true, "The version of the text")),
                        prop("text", string(true, "The text, in the visitor's language")),
                    ],
                ),
            ),
            prop("error", string(true, "Why it was blocked or failed")),
            prop("created_at", date_time(false, "When it was posted")),
        ]);
        self.schema(
            "FormSubmission",
            response_object("A post to a web form", submission),
        );
        self.schema(
            "FormSubmissionPage",
            response_object(
                "A page of submissions, newest first",
                vec![
                    prop(
                        "items",
                        array(Ref::from_schema_name("FormSubmission"), "Submissions"),
                    ),
                    prop(
                        "next_cursor",
                        string(true, "Pass as cursor for the next page; null on the last"),
                    ),
                ],
            ),
        );
        self.schema(
            "FormPost",
            ObjectBuilder::new()
                .description(Some(
                    "The form's fields by name (custom fields as custom.KEY), and optionally \
                     lang, consent, referrer, utm_source, utm_medium, utm_campaign, utm_term, \
                     utm_content. The hidden field website must stay empty. Other fields are \
                     kept on the submission.",
                ))
                .additional_properties(Some(AdditionalProperties::FreeForm(true))),
        );
        self.schema(
            "FormReceipt",
            response_object(
                "The post was taken",
                vec![
                    prop(
                        "submission_id",
                        int64(
                            false,
                            "The submission; a double submit answers the first one's",
                        ),
                    ),
                    prop(
                        "message",
                        string(false, "The thank-you message in the visitor's language"),
                    ),
                    prop(
                        "redirect_url",
                        string(true, "Where the form sends browsers"),
                    ),
                ],
            ),
        );

        let tag = "forms";
        self.add(
            HttpMethod::Get,
            "/api/v1/forms",
            operation("listForms", tag, "List web forms")
                .description(Some("Admins only."))
                .response("200", json_response("Every form", "FormList")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/forms",
            operation("createForm", tag, "Create a web form")
                .description(Some("Admins only. The form gets a random public key."))
                .request_body(Some(json_body("FormInput")))
                .response("201", json_response("Created", "Form")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/forms/{id}",
            operation("getForm", tag, "Get a web form")
                .description(Some("Admins only."))
                .response("200", json_response("The form", "Form")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/forms/{id}",
            operation("updateForm", tag, "Change a web form")
                .description(Some(
                    "Admins only. A new consent text gets a new consent version.",
                ))
                .request_body(Some(json_body("FormChange")))
                .response("200", json_response("The changed form", "Form")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/forms/{id}",
            operation("deleteForm", tag, "Delete a web form")
                .description(Some(
                    "Admins only. Its address stops answering; its submissions stay.",
                ))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/forms/{id}/embed",
            operation("embedForm", tag, "HTML to embed a web form in another site")
                .description(Some("Admins only."))
                .parameter(query(
                    "lang",
                    "zh or en; default the form's language",
                    languages(),
                ))
                .response("200", json_response("The snippet", "FormEmbed")),
            &[Failure::Forbidden, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/forms/{id}/submissions",
            operation("listFormSubmissions", tag, "The posts to a web form")
                .description(Some("Admins only."))
                .parameter(query(
                    "status",
                    "Only submissions with this status",
                    codes(SUBMISSION_STATUSES.iter().copied(), false, "A status"),
                ))
                .parameter(query(
                    "limit",
                    "Submissions per page, 1–500; default 50",
                    int64(false, "A count").minimum(Some(1)).maximum(Some(500)),
                ))
                .parameter(query(
                    "cursor",
                    "The next_cursor of the previous page",
                    id_cursor(),
                ))
                .response(
                    "200",
                    json_response("A page of submissions", "FormSubmissionPage"),
                ),
            &[Failure::Forbidden, Failure::Invalid],
        );

        let key = || {
            ParameterBuilder::new()
                .name("key")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("The form's public key"))
                .schema(Some(string(false, "A form key")))
                .build()
        };
        let too_many = ResponseBuilder::new()
            .description(format!(
                "`too_many_requests`: more than {} posts of this form from the address in a \
                 minute; wait `Retry-After` seconds",
                xiansuo_app::channels::forms::RATE_LIMIT
            ))
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("Error"))),
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until the form may be posted again"))
                    .build(),
            );
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("FormPost"))),
            )
            .content(
                "application/x-www-form-urlencoded",
                Content::new(Some(Ref::from_schema_name("FormPost"))),
            )
            .build();
        self.add(
            HttpMethod::Post,
            "/f/{key}",
            operation("postForm", tag, "Post a web form (public)")
                .description(Some(
                    "No credentials. A browser's form post (urlencoded, without Accept: \
                     application/json) is answered with HTML in the form's language: the \
                     thank-you page, a 303 to the form's redirect_url, or the form again with \
                     the problem marked (422). JSON is answered with JSON. The lead is created \
                     as by POST /api/v1/leads, with the form's source, campaign, owner and \
                     dedup policy. A filled honeypot, a double submit within 10 s and a post \
                     refused by the dedup policy are answered like a success.",
                ))
                .parameter(key())
                .request_body(Some(body))
                .response("201", json_response("Taken", "FormReceipt"))
                .response(
                    "303",
                    ResponseBuilder::new().description("Taken; go to the form's redirect_url"),
                )
                .response("429", too_many),
            &[],
        );
        // A browser's post is answered with a page, anything else with the JSON error.
        let operation = self
            .paths
            .paths
            .get_mut("/f/{key}")
            .and_then(|item| item.post.as_mut());
        if let Some(operation) = operation {
            for failure in [
                Failure::BadRequest,
                Failure::Forbidden,
                Failure::NotFound,
                Failure::TooLarge,
                Failure::MediaType,
                Failure::Invalid,
            ] {
                let page = ResponseBuilder::new()
                    .description(format!(
                        "`{}` as JSON, or as an HTML page in the form's language for a \
                         browser's urlencoded post",
                        failure.name()
                    ))
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("Error"))),
                    )
                    .content(
                        "text/html",
                        Content::new(Some(string(false, "The page with the problem"))),
                    )
                    .build();
                operation
                    .responses
                    .responses
                    .insert(failure.status().to_owned(), RefOr::T(page));
            }
        }
    }

    fn auth(&mut self) {
        self.schema(
            "Login",
            request_object(
                "Credentials",
                vec![
                    prop("username", string(false, "Sign-in name")),
                    prop(
                        "password",
                        string(false, "Password")
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
                    ),
                ],
                &["username", "password"],
            ),
        );
        self.schema(
            "Session",
            response_object(
                "A new web session",
                vec![
                    prop("user", Ref::from_schema_name("User")),
                    prop(
                        "csrf_token",
                        string(
                            false,
                            "Send it as `X-CSRF-Token` on writes authenticated by the cookie",
                        ),
                    ),
                ],
            ),
        );

        let tag = "auth";
        let cookie = HeaderBuilder::new()
            .schema(string(false, "The session cookie"))
            .description(Some(format!(
                "`{SESSION_COOKIE}=…; HttpOnly; SameSite=Lax; Path=/`"
            )))
            .build();
        self.add(
            HttpMethod::Post,
            LOGIN,
            operation("login", tag, "Sign in")
                .description(Some(
                    "Starts a web session and sets its cookie. Failed attempts are rate limited \
                     per username and per client address.",
                ))
                .request_body(Some(json_body("Login")))
                .response(
                    "200",
                    json_response("Signed in", "Session").header("Set-Cookie", cookie),
                ),
            &[
                Failure::Unauthorized,
                Failure::Invalid,
                Failure::TooManyLogins,
            ],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/auth/logout",
            operation("logout", tag, "Sign out")
                .description(Some("Ends the web session and clears its cookie."))
                .response("204", ResponseBuilder::new().description("Signed out")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/me",
            operation("getMe", tag, "Who am I")
                .response("200", json_response("The signed-in user", "User")),
            &[],
        );
        self.schema(
            "PasswordChange",
            request_object(
                "Your current password and the new one",
                vec![
                    prop(
                        "current_password",
                        string(false, "Your password now")
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
                    ),
                    prop(
                        "new_password",
                        string(false, "At least 8 characters")
                            .min_length(Some(8))
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
                    ),
                ],
                &["current_password", "new_password"],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/me/password",
            operation("changeMyPassword", tag, "Change your own password")
                .description(Some(
                    "The current password is required; a wrong one is a 422 on \
                     `current_password`. Stored with argon2id. Every other session of yours \
                     ends; the one the change is made with stays.",
                ))
                .request_body(Some(json_body("PasswordChange")))
                .response("204", ResponseBuilder::new().description("Changed")),
            &[Failure::Invalid],
        );
    }

    fn operations(&mut self) {
        self.schema(
            "Health",
            response_object(
                "Health",
                vec![prop("status", string(false, "`ok`, or what is wrong"))],
            ),
        );
        let tag = "operations";
        self.add(
            HttpMethod::Get,
            "/healthz",
            operation("healthz", tag, "Liveness")
                .description(Some("Answers while the process runs."))
                .response("200", json_response("Alive", "Health")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/readyz",
            operation("readyz", tag, "Readiness")
                .description(Some("Answers 200 when the database can be reached."))
                .response("200", json_response("Ready", "Health"))
                .response("503", json_response("Not ready", "Health")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/openapi.json",
            operation("getOpenApi", tag, "This document").response(
                "200",
                ResponseBuilder::new()
                    .description("The OpenAPI 3.1 document")
                    .content("application/json", Content::new(Some(ObjectBuilder::new()))),
            ),
            &[],
        );
    }

    /// The delivery log's schemas of webhooks (the routes document themselves in
    /// `crate::api::webhooks`; robots share the attempt).
    fn webhook_deliveries(&mut self) {
        self.schema(
            "WebhookAttempt",
            response_object(
                "One attempt to deliver",
                vec![
                    prop("attempt", int64(false, "1 for the first")),
                    prop("at", date_time(false, "When it was made")),
                    prop(
                        "status_code",
                        int64(true, "The receiver's HTTP status; null without an answer"),
                    ),
                    prop(
                        "response_body",
                        string(true, "The start of the answer (1000 characters)"),
                    ),
                    prop(
                        "error",
                        string(true, "What went wrong without an answer (timeout, refused)"),
                    ),
                    prop("duration_ms", int64(false, "How long it took")),
                ],
            ),
        );
        self.schema(
            "WebhookDelivery",
            delivery_schema(
                "One event sent to one subscription",
                "Unique id; also the `X-Xiansuo-Delivery` header",
                ("webhook_id", "The subscription"),
                "The event, or `ping` for a test",
                "The JSON sent: `{\"id\", \"event\", \"occurred_at\", \"data\"}`",
            ),
        );
        self.schema(
            "WebhookDeliveryList",
            delivery_list_schema("WebhookDelivery"),
        );
    }

    fn imports(&mut self) {
        let states = || {
            codes(
                ["uploaded", "running", "finished", "failed"],
                false,
                "`uploaded`: waiting to be started; `failed`: see `error`, may be started again",
            )
        };
        let kinds = || {
            codes(
                [
                    "leads",
                    "accounts",
                    "contacts",
                    "opportunities",
                    "activities",
                ],
                false,
                "The kind of record the file holds",
            )
        };
        let import_props = || {
            vec![
                prop("id", int64(false, "Unique id")),
                prop("kind", kinds()),
                prop("user_id", int64(false, "Who uploaded it; nobody else sees it")),
                prop("file_name", string(false, "The file's name")),
                prop("file_size", int64(false, "Bytes")),
                prop(
                    "format",
                    string(false, "What the file was read as, e.g. `CSV, GBK/GB18030, comma-separated`"),
                ),
                prop("headers", array(string(false, "A header"), "The header row")),
                prop(
                    "mapping",
                    ArrayBuilder::new()
                        .schema_type(typed(Type::Array, true))
                        .items(Ref::from_schema_name("ImportColumn"))
                        .description(Some(
                            "Where each column goes, with the mapping given at start; for leads null while no column gives the name (other kinds show their columns and say so in `mapping_error`)",
                        )),
                ),
                prop(
                    "unmapped",
                    ArrayBuilder::new()
                        .schema_type(typed(Type::Array, true))
                        .items(string(false, "A header"))
                        .description(Some("Headers that are not imported")),
                ),
                prop(
                    "targets",
                    array(
                        string(false, "A field, or `custom.KEY`"),
                        "Where a column of this kind can go, for `mapping` at start (or `ignore`)",
                    ),
                ),
                prop("estimated_rows", int64(false, "Rows in the file, estimated from its lines")),
                prop("state", states()),
                prop("options", any("The options it was started with; null before")),
                prop("progress", Ref::from_schema_name("ImportProgress")),
                prop("error", string(true, "Why it failed")),
                prop(
                    "errors_csv",
                    string(true, "The path of the error report, when some row was reported"),
                ),
                prop("created_at", date_time(false, "Uploaded")),
                prop("updated_at", date_time(false, "Last progress")),
                prop("started_at", date_time(true, "Started")),
                prop("finished_at", date_time(true, "Finished")),
            ]
        };
        self.schema(
            "ImportColumn",
            response_object(
                "A column of the file",
                vec![
                    prop("header", string(false, "Its header")),
                    prop(
                        "field",
                        string(
                            true,
                            "The field or target of the kind (`custom.KEY` for custom fields, `account_ref` for a link by the source system's id, …); null: not imported",
                        ),
                    ),
                ],
            ),
        );
        self.schema(
            "ImportProgress",
            response_object(
                "Rows handled so far, committed batch by batch",
                vec![
                    prop("rows", int64(false, "Rows read and handled")),
                    prop("imported", int64(false, "Records created")),
                    prop(
                        "updated",
                        int64(
                            false,
                            "Records updated, found by the external id of the row (accounts, contacts, opportunities, activities; 0 for leads)",
                        ),
                    ),
                    prop(
                        "skipped",
                        int64(false, "Duplicates and empty rows left out"),
                    ),
                    prop("failed", int64(false, "Rows refused")),
                    prop(
                        "warned",
                        int64(
                            false,
                            "Leads imported although possible duplicates (the `warn` action), flagged for review",
                        ),
                    ),
                    prop(
                        "warnings",
                        int64(
                            false,
                            "Imported with a warning about their data: a phone kept unverified as entered, an outcome date that is not a date, a converted-into id that matches nothing, an owner or a linked record not found (result `warning` in the row report)",
                        ),
                    ),
                ],
            ),
        );
        self.schema(
            "Import",
            response_object("An uploaded import file", import_props()),
        );
        self.schema(
            "ImportPreviewRow",
            response_object(
                "What a row would become",
                vec![
                    prop(
                        "row",
                        int64(
                            false,
                            "Its row number as a spreadsheet shows it (the header is 1)",
                        ),
                    ),
                    prop("lead", any("Leads: the lead body the row gives")),
                    prop(
                        "record",
                        any("Other kinds: what the row would do, `{\"create\": body}` or `{\"update\": id, \"body\": changes}` (with `closing`, a deal's won or lost state), or the activity; null when refused"),
                    ),
                    prop(
                        "result",
                        codes(
                            ["ok", "failed", "skipped", "imported", "merged", "warning"],
                            false,
                            "What the import would do with it (default choices): `imported` flagged as a possible duplicate, `warning` imported with a warning about its data",
                        ),
                    ),
                    prop("field", string(true, "The field at fault")),
                    prop("reason", string(true, "Why")),
                ],
            ),
        );
        let mut uploaded = import_props();
        uploaded.push(prop(
            "mapping_error",
            string(
                true,
                "Why the columns cannot be mapped as they are; give a `mapping` at start",
            ),
        ));
        uploaded.push(prop(
            "preview",
            array(
                Ref::from_schema_name("ImportPreviewRow"),
                "The first 10 rows, checked as the import would check them",
            ),
        ));
        self.schema(
            "UploadedImport",
            response_object(
                "A new upload, with the proposed mapping and a preview",
                uploaded,
            ),
        );
        self.schema(
            "ImportStart",
            request_object(
                "How to import",
                vec![
                    prop(
                        "mapping",
                        ObjectBuilder::new()
                            .description(Some(
                                "Header → field (`name`, `phone`, `account_ref`, `custom.KEY`, `ignore`, …; see the upload's `targets`), over the automatic mapping; for opportunities `stage:NAME` → a stage code names a stage of the file",
                            ))
                            .additional_properties(Some(AdditionalProperties::RefOr(
                                string(false, "A field").into(),
                            ))),
                    ),
                    prop(
                        "dedup",
                        codes(
                            ["skip", "block", "warn", "merge"],
                            false,
                            "Leads only. A row that certainly duplicates a lead, a contact, an account or an earlier row (the same phone, email or external id): left out (`skip`, the default), reported as failed (`block`), imported flagged and reported (`warn`), or merged into the lead it duplicates (`merge`)",
                        ),
                    ),
                    prop(
                        "dedup_probable",
                        codes(
                            ["skip", "block", "warn", "merge"],
                            true,
                            "Leads only. The same for a row that probably duplicates one (the same name at the same company, no exact key in common); default: the import channel's policy for probable matches (`GET /api/v1/dedup/probable-policies`, source of the row), which flags it for review unless an admin chose otherwise",
                        ),
                    ),
                    prop(
                        "country",
                        string(
                            true,
                            "Leads only. The country of rows whose Country column is empty or missing, which reads their phones: an ISO code (`US`) or a name (`United States`, `美国`); default China",
                        ),
                    ),
                    prop(
                        "source",
                        string(false, "Leads only. The source of rows that name none (default `import`)"),
                    ),
                    prop(
                        "owner_id",
                        int64(false, "Who owns the imported leads, or the other records whose owner column names no user (default: you); within your data scope"),
                    ),
                ],
                &[],
            ),
        );
        self.schema(
            "ImportList",
            response_object(
                "One page of your imports, newest first",
                vec![
                    prop(
                        "items",
                        array(Ref::from_schema_name("Import"), "The imports"),
                    ),
                    prop(
                        "next_cursor",
                        string(
                            true,
                            "Pass as `cursor` for the next page; null on the last page",
                        ),
                    ),
                ],
            ),
        );

        let binary = |what: &str| {
            Content::new(Some(
                string(false, what).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
            ))
        };
        let upload_body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .description(Some(
                "The file as the raw body, or as the part `file` of a multipart form (its file \
                 name is kept). At most 100 MiB.",
            ))
            .content("text/csv", binary("A CSV file"))
            .content(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                binary("An XLSX workbook"),
            )
            .content("application/octet-stream", binary("A CSV or XLSX file"))
            .content(
                "multipart/form-data",
                Content::new(Some(
                    ObjectBuilder::new()
                        .property(
                            "file",
                            string(false, "The CSV or XLSX file")
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
                        )
                        .required("file"),
                )),
            )
            .build();
        self.add(
            HttpMethod::Post,
            "/api/v1/imports",
            operation("createImport", "imports", "Upload a file to import")
                .description(Some(
                    "Reads the file's format and encoding from its bytes (CSV in UTF-8, UTF-16 \
                     or GBK/GB18030, comma-, tab- or semicolon-separated; XLSX, first sheet), \
                     proposes a mapping of its headers for the kind of record (Chinese headers \
                     such as 姓名/手机/公司 or 客户名称, and the export headers of Salesforce, \
                     HubSpot, Zoho, 纷享销客, 销售易 and Xiansuo) and previews the first rows. \
                     Nothing is imported until `POST /api/v1/imports/{id}/start`. An empty, \
                     binary or unreadable file, or one without rows, is a 422 naming `file`; \
                     an unknown `kind` a 422 naming `kind`; a file of leads imported already is \
                     a 409 (files of other kinds may be imported again: they update by external \
                     id).",
                ))
                .parameters(Some(vec![
                    query(
                        "file_name",
                        "The file's name, for a raw body",
                        string(false, "A file name").min_length(Some(1)),
                    )
                    .build(),
                    query(
                        "kind",
                        "What the file holds; import accounts, then contacts, then opportunities, then activities, so that links resolve",
                        kinds().default(Some(json!("leads"))),
                    )
                    .build(),
                ]))
                .request_body(Some(upload_body))
                .response(
                    "201",
                    json_response("Stored, with a preview", "UploadedImport"),
                ),
            &[Failure::Invalid, Failure::Conflict],
        );
        // The upload's own limit, rather than the 1 MiB of JSON bodies; and any content type.
        if let Some(op) = self
            .paths
            .paths
            .get_mut("/api/v1/imports")
            .and_then(|item| item.post.as_mut())
        {
            op.responses.responses.remove("415");
            op.responses.responses.insert(
                "413".to_owned(),
                json_response(
                    "`payload_too_large`: the file is larger than 100 MiB",
                    "Error",
                )
                .build()
                .into(),
            );
        }
        self.add(
            HttpMethod::Get,
            "/api/v1/imports",
            operation("listImports", "imports", "List your imports")
                .parameters(Some(vec![
                    query(
                        "limit",
                        "How many imports per page",
                        scalar(Type::Integer, false, "Page size")
                            .minimum(Some(1))
                            .maximum(Some(100))
                            .default(Some(json!(20))),
                    )
                    .build(),
                    query(
                        "cursor",
                        "The `next_cursor` of the previous page",
                        id_cursor(),
                    )
                    .build(),
                ]))
                .response("200", json_response("One page", "ImportList")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/imports/{id}",
            operation("getImport", "imports", "Get an import and its progress")
                .description(Some("Only the user who uploaded it sees it."))
                .response("200", json_response("The import", "Import")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/imports/{id}/start",
            operation("startImport", "imports", "Start an import")
                .description(Some(
                    "Runs the import in the background with these choices (an empty body takes \
                     the defaults); follow it with `GET /api/v1/imports/{id}`. Rows are checked \
                     exactly as `POST /api/v1/leads` (or the kind's own endpoint) checks a \
                     record, leads deduplicated against leads, contacts and earlier rows, other \
                     kinds updating the record with the row's external id, and written in \
                     batches of 1,000, each in one transaction; every record's history records \
                     the channel `import`. Links to other records resolve by the source \
                     system's ids or by names, within your data scope. A failed import may be \
                     started again and continues after its last batch; a finished or running \
                     one is a 409.",
                ))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::False))
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ImportStart"))),
                        )
                        .build(),
                ))
                .response("202", json_response("Started", "Import")),
            &[Failure::Invalid, Failure::Conflict],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/imports/{id}/errors.csv",
            operation("getImportErrors", "imports", "Get an import's error report")
                .description(Some(
                    "Every row that was skipped, failed, or imported with a warning: `row`, \
                     `result`, `field`, `reason`, then the row's own columns. UTF-8 with a byte \
                     order mark; cells a spreadsheet would run as formulas are neutralised.",
                ))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The report, as an attachment")
                        .content("text/csv", Content::new(Some(string(false, "CSV")))),
                ),
            &[],
        );
    }

    /// The analytics reports, the channel spend behind them and KPI targets.
    fn notifications(&mut self) {
        self.schema(
            "Notification",
            response_object(
                "A notification to the caller",
                vec![
                    prop("id", int64(false, "The id")),
                    prop("kind", notification_kind()),
                    prop(
                        "record_type",
                        string(true, "The type of the record it is about, if any"),
                    ),
                    prop("record_id", int64(true, "The id of that record")),
                    prop("message", string(false, "The text shown to the user")),
                    prop("created_at", date_time(false, "When")),
                    prop(
                        "read_at",
                        date_time(true, "When it was read; null while unread"),
                    ),
                ],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/notifications",
            operation(
                "listNotifications",
                "notifications",
                "The caller's notifications, newest first",
            )
            .parameters(Some([
                query(
                    "unread",
                    "Only unread ones",
                    boolean("true or false (default false)"),
                )
                .build(),
                query(
                    "limit",
                    "How many at most",
                    int64(false, "From 1 to 200 (default 50)")
                        .minimum(Some(1))
                        .maximum(Some(200)),
                )
                .build(),
            ]))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The notifications and how many are unread")
                    .content(
                        "application/json",
                        Content::new(Some(response_object(
                            "The caller's notifications",
                            vec![
                                prop(
                                    "items",
                                    array(
                                        Ref::from_schema_name("Notification"),
                                        "Notifications, newest first",
                                    ),
                                ),
                                prop(
                                    "unread",
                                    int64(false, "How many of the caller's are unread in all"),
                                ),
                            ],
                        ))),
                    ),
            ),
            &[Failure::BadRequest],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/notifications/{id}/read",
            operation(
                "readNotification",
                "notifications",
                "Marks one of the caller's notifications read",
            )
            .response("200", json_response("The notification", "Notification")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/notifications/read-all",
            operation(
                "readAllNotifications",
                "notifications",
                "Marks all the caller's notifications read",
            )
            .response(
                "200",
                ResponseBuilder::new()
                    .description("How many were marked")
                    .content(
                        "application/json",
                        Content::new(Some(response_object(
                            "The notifications marked read",
                            vec![prop("marked", int64(false, "How many were unread"))],
                        ))),
                    ),
            ),
            &[],
        );
        self.schema(
            "NotificationKindPreference",
            request_object(
                "How the caller wants one kind of notification",
                vec![
                    prop("kind", notification_kind()),
                    prop("in_app", boolean("Shown in the app")),
                    prop("email", boolean("Included in the email digest")),
                ],
                &["kind", "in_app", "email"],
            ),
        );
        self.schema(
            "NotificationPreferences",
            response_object(
                "Which notifications the caller gets in the app and by email",
                vec![
                    prop(
                        "kinds",
                        array(
                            Ref::from_schema_name("NotificationKindPreference"),
                            "Every kind; one never set is on in both",
                        ),
                    ),
                    prop(
                        "daily_digest",
                        boolean(
                            "Email comes once a day, at 08:00 in the caller's time zone, \
                             instead of within the minute",
                        ),
                    ),
                ],
            ),
        );
        self.schema(
            "NotificationPreferencesChange",
            request_object(
                "The kinds to set (the others are kept) and the daily digest",
                vec![
                    prop(
                        "kinds",
                        array(
                            Ref::from_schema_name("NotificationKindPreference"),
                            "The kinds to set",
                        ),
                    ),
                    prop(
                        "daily_digest",
                        optional_boolean("Once a day instead of within the minute"),
                    ),
                ],
                &[],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/me/notification-preferences",
            operation(
                "getMyNotificationPreferences",
                "notifications",
                "Which notifications the caller gets in the app and by email",
            )
            .response(
                "200",
                json_response("The caller's preferences", "NotificationPreferences"),
            ),
            &[],
        );
        self.add(
            HttpMethod::Put,
            "/api/v1/me/notification-preferences",
            operation(
                "setMyNotificationPreferences",
                "notifications",
                "Sets which notifications the caller gets in the app and by email",
            )
            .description(Some(
                "A kind muted in both is not written for the caller; muted in the app, it \
                 stays out of their list and count; muted by email, it is left out of their \
                 digest. An unknown kind or field is a 422 naming it.",
            ))
            .request_body(Some(json_body("NotificationPreferencesChange")))
            .response(
                "200",
                json_response("The caller's preferences now", "NotificationPreferences"),
            ),
            &[Failure::Invalid],
        );
    }

    fn privacy(&mut self) {
        let person = || {
            vec![
                query(
                    "phone",
                    "The person's phone, in any format (a number without a country code is \
                     taken as Chinese)",
                    string(false, "A phone number"),
                )
                .build(),
                query(
                    "email",
                    "The person's e-mail",
                    string(false, "An e-mail address"),
                )
                .build(),
            ]
        };
        self.add(
            HttpMethod::Get,
            "/api/v1/privacy/export",
            operation(
                "exportPerson",
                "privacy",
                "Everything held about a person (admins)",
            )
            .description(Some(
                "Finds the leads and contacts (deleted ones too) whose phone or e-mail is the \
                 one given (at least one of them) and answers with them, their activities, \
                 their history, their attachments' details and their web-form submissions. \
                 The export is recorded in /api/v1/exports as record type `person`.",
            ))
            .parameters(Some(person()))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The person's data")
                    .content(
                        "application/json",
                        Content::new(Some(response_object(
                            "Everything held about the person",
                            vec![
                                prop("person", any("The phone (E.164) and e-mail searched for")),
                                prop("exported_at", date_time(false, "When")),
                                prop("leads", any("Their leads, as the API shows leads")),
                                prop("contacts", any("Their contacts")),
                                prop("activities", any("Activities on those records")),
                                prop("history", any("The history of those records")),
                                prop("attachments", any("Attachments' names, types and sizes")),
                                prop(
                                    "form_submissions",
                                    any("Web-form posts that made their leads"),
                                ),
                            ],
                        ))),
                    ),
            ),
            &[Failure::Forbidden, Failure::Invalid],
        );
        self.schema(
            "PersonErasure",
            request_object(
                "Whom to erase and why",
                vec![
                    prop("phone", string(false, "The person's phone, in any format")),
                    prop("email", string(false, "The person's e-mail")),
                    prop(
                        "reason",
                        string(false, "Why, e.g. the person's request and its date"),
                    ),
                ],
                &["reason"],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/privacy/erase",
            operation("erasePerson", "privacy", "Erase a person's data (admins)")
                .description(Some(
                    "Erases the personal data of every lead and contact with the phone or e-mail \
                     given, in one transaction, keeping the records for the counts (status, \
                     source, owner, company, dates, non-text custom fields). Names become \
                     已擦除; phones, e-mails, WeChat ids, titles, descriptions, text custom \
                     fields, activity and comment texts, attachments, history values, web-form \
                     payloads, webhook bodies and queued e-mails carrying the phone or e-mail, \
                     notifications about the records, merge images and reported import rows \
                     holding them are cleared or removed. Each record gets a history entry \
                     `erase` with who and why.",
                ))
                .request_body(Some(json_body("PersonErasure")))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("What was erased")
                        .content(
                            "application/json",
                            Content::new(Some(response_object(
                                "What was erased",
                                vec![
                                    prop("person", any("The phone (E.164) and e-mail")),
                                    prop("erased", any("Counts per kind of data")),
                                    prop("lead_ids", any("The erased leads")),
                                    prop("contact_ids", any("The erased contacts")),
                                ],
                            ))),
                        ),
                ),
            &[Failure::Forbidden, Failure::Invalid],
        );
    }

    fn reports(&mut self) {
        let number = |nullable: bool, doc: &str| scalar(Type::Number, nullable, doc);
        let pct = |doc: &str| {
            number(
                true,
                &format!(
                    "{doc}, in percent with one decimal; null when there is nothing to divide by"
                ),
            )
        };
        let range_props = || {
            vec![
                prop("from", date_time(false, "Start of the range (included)")),
                prop("to", date_time(false, "End of the range (excluded)")),
            ]
        };
        let report_response = |description: &str, schema: &str| {
            json_response(description, schema)
                .content(
                    "text/csv",
                    Content::new(Some(string(
                        false,
                        "With `format=csv`: the same figures as a table, UTF-8 with a byte order \
                         mark and a header row; formula-like text neutralised with a leading `'`",
                    ))),
                )
                .content(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    Content::new(Some(string(
                        false,
                        "With `format=xlsx`: the same table as a workbook of one sheet, numbers \
                         as numbers and text as strings, never formulas",
                    ))),
                )
        };
        let common = |extra: Vec<Parameter>| {
            let mut params = vec![
                query(
                    "from",
                    "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 \
                     time; default 30 days before `to`",
                    date_or_time("Date or time"),
                )
                .build(),
                query(
                    "to",
                    "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 \
                     time; default today; must be after `from`",
                    date_or_time("Date or time"),
                )
                .build(),
                query(
                    "format",
                    "`json` (default), `csv` or `xlsx`",
                    codes(["json", "csv", "xlsx"], false, "The format"),
                )
                .build(),
            ];
            params.extend(extra);
            params
        };

        let leads_item = response_object(
            "One group",
            vec![
                prop("key", any("The source, campaign, owner id, team id, status or period (a day, the Monday of a week, or YYYY-MM); null for none")),
                prop("label", any("The key, or the owner's or team's name")),
                prop("leads", int64(false, "Leads created in the range")),
                prop("converted", int64(false, "Of them, converted")),
                prop("conversion_pct", pct("converted / leads")),
            ],
        );
        let mut props = range_props();
        props.extend([
            prop("group_by", string(false, "As asked")),
            prop(
                "items",
                array(
                    RefOr::T(leads_item),
                    "Groups, largest first (periods in order)",
                ),
            ),
            prop(
                "total",
                ObjectBuilder::new()
                    .description(Some(
                        "`leads`, `converted` and `conversion_pct` over all groups",
                    ))
                    .additional_properties(Some(AdditionalProperties::FreeForm(true))),
            ),
        ]);
        self.schema("LeadsReport", response_object("Leads by group", props));
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/leads",
            operation("leadsReport", "reports", "Leads and conversion by group")
                .description(Some(
                    "The leads you may see created in the range, grouped, with how many are \
                     converted. Also has `period` when grouped by period.",
                ))
                .parameters(Some(common(vec![
                    query(
                        "group_by",
                        "What to group by; default source",
                        codes(["source", "campaign", "owner", "team", "status", "period"], false, "A grouping"),
                    )
                    .build(),
                    query(
                        "period",
                        "With group_by=period: day, week (from Monday) or month (default), in China time",
                        codes(["day", "week", "month"], false, "A period"),
                    )
                    .build(),
                ])))
                .response("200", report_response("The report", "LeadsReport")),
            &[Failure::Invalid],
        );

        let step = response_object(
            "One step",
            vec![
                prop(
                    "step",
                    codes(
                        ["new", "working", "qualified", "converted", "won"],
                        false,
                        "The step",
                    ),
                ),
                prop(
                    "count",
                    int64(false, "Leads that reached it (won: whose deal was won)"),
                ),
                prop("from_previous_pct", pct("count / the previous step's")),
                prop("from_first_pct", pct("count / new")),
            ],
        );
        let mut props = range_props();
        props.extend([
            prop(
                "items",
                array(
                    RefOr::T(step),
                    "The steps in order; `won` also has `won_amount`",
                ),
            ),
            prop(
                "disqualified",
                int64(false, "Leads disqualified (counted only as new)"),
            ),
            prop(
                "nurturing",
                int64(false, "Leads being nurtured (counted only as new)"),
            ),
        ]);
        self.schema("FunnelReport", response_object("The funnel", props));
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/funnel",
            operation(
                "funnelReport",
                "reports",
                "The funnel from new lead to won deal",
            )
            .description(Some(
                "Of the leads you may see created in the range, how many reached each status \
                     (by where they stand now: a converted lead passed every step before it) and \
                     how many of their deals were won.",
            ))
            .parameters(Some(common(Vec::new())))
            .response("200", report_response("The funnel", "FunnelReport")),
            &[Failure::Invalid],
        );

        let speed = response_object(
            "One owner",
            vec![
                prop(
                    "owner_id",
                    int64(true, "The owner; null for leads without one"),
                ),
                prop("owner", string(true, "Their name")),
                prop("leads", int64(false, "Leads created in the range")),
                prop("contacted", int64(false, "Of them, with an activity")),
                prop(
                    "median_minutes",
                    number(true, "Median minutes from creation to the first activity"),
                ),
                prop(
                    "average_minutes",
                    number(true, "Average minutes from creation to the first activity"),
                ),
                prop(
                    "within_hour_pct",
                    pct("Contacted within an hour / contacted"),
                ),
            ],
        );
        let mut props = range_props();
        props.push(prop("items", array(RefOr::T(speed), "Per owner")));
        self.schema("SpeedToLeadReport", response_object("Speed to lead", props));
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/speed-to-lead",
            operation("speedToLeadReport", "reports", "Speed to lead per owner")
                .description(Some("Time from a lead's creation to its first activity, for the leads you may see created in the range."))
                .parameters(Some(common(Vec::new())))
                .response("200", report_response("The report", "SpeedToLeadReport")),
            &[Failure::Invalid],
        );

        let counts = |doc: &str| {
            ObjectBuilder::new()
                .description(Some(doc))
                .additional_properties(Some(AdditionalProperties::RefOr(
                    int64(false, "Activities").into(),
                )))
        };
        let rep = response_object(
            "One user",
            vec![
                prop("user_id", int64(true, "Who logged them")),
                prop("user", string(true, "Their name")),
                prop("total", int64(false, "Activities logged in the range")),
                prop("by_type", counts("Per activity type")),
                prop(
                    "by_outcome",
                    counts("Per outcome; `none` for activities without one"),
                ),
            ],
        );
        let mut props = range_props();
        props.push(prop("items", array(RefOr::T(rep), "Per user")));
        self.schema(
            "ActivityReport",
            response_object("Follow-up activity per rep", props),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/activities",
            operation("activityReport", "reports", "Follow-up activity per rep")
                .description(Some("Activities logged in the range by the users whose records you may see. The CSV has one row per user, type and outcome."))
                .parameters(Some(common(Vec::new())))
                .response("200", report_response("The report", "ActivityReport")),
            &[Failure::Invalid],
        );

        let cycle = response_object(
            "One group",
            vec![
                prop("key", any("The deal's owner id, or the lead's source")),
                prop("label", any("The owner's name, or the source")),
                prop(
                    "won",
                    int64(false, "Deals won in the range that came from a lead"),
                ),
                prop("won_amount", number(false, "Their amount")),
                prop(
                    "median_days",
                    number(true, "Median days from the lead's creation to the win"),
                ),
                prop(
                    "average_days",
                    number(true, "Average days from the lead's creation to the win"),
                ),
            ],
        );
        let mut props = range_props();
        props.extend([
            prop("group_by", string(false, "As asked")),
            prop(
                "items",
                array(RefOr::T(cycle), "Per group, most deals first"),
            ),
        ]);
        self.schema(
            "SalesCycleReport",
            response_object("The sales cycle", props),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/sales-cycle",
            operation(
                "salesCycleReport",
                "reports",
                "Sales cycle from lead to won deal",
            )
            .parameters(Some(common(vec![query(
                "group_by",
                "Per owner of the deal (default) or per source of the lead",
                codes(["owner", "source"], false, "A grouping"),
            )
            .build()])))
            .response("200", report_response("The report", "SalesCycleReport")),
            &[Failure::Invalid],
        );

        let channel_props = |source: bool| {
            let mut props = Vec::new();
            if source {
                props.push(prop("source", string(false, "The lead source")));
            }
            props.extend([
                prop("leads", int64(false, "Leads created in the range")),
                prop("converted", int64(false, "Of them, converted")),
                prop("won", int64(false, "Of them, with their deal won")),
                prop("won_amount", number(false, "The amount of those deals")),
                prop(
                    "spend",
                    number(false, "Spend recorded for the months the range touches"),
                ),
                prop("cost_per_lead", number(true, "spend / leads")),
                prop(
                    "acquisition_cost",
                    number(true, "spend / won: the customer acquisition cost"),
                ),
            ]);
            props
        };
        let mut props = range_props();
        props.extend([
            prop(
                "spend_months",
                ObjectBuilder::new()
                    .description(Some(
                        "`from` and `to`: the months (YYYY-MM) whose spend counts",
                    ))
                    .additional_properties(Some(AdditionalProperties::FreeForm(true))),
            ),
            prop(
                "items",
                array(
                    RefOr::T(response_object("One source", channel_props(true))),
                    "Per source",
                ),
            ),
            prop(
                "total",
                response_object("All sources", channel_props(false)),
            ),
        ]);
        self.schema(
            "ChannelReport",
            response_object("Cost per lead and acquisition cost per channel", props),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/channels",
            operation(
                "channelReport",
                "reports",
                "Cost per lead and acquisition cost per source",
            )
            .description(Some(
                "Admins only: spend is a whole channel's, compared with all its leads.",
            ))
            .parameters(Some(common(Vec::new())))
            .response("200", report_response("The report", "ChannelReport")),
            &[Failure::Forbidden, Failure::Invalid],
        );

        self.schema(
            "ChannelCost",
            response_object(
                "What a source (or one of its campaigns) cost in a month",
                vec![
                    prop("id", int64(false, "The id")),
                    prop("source", string(false, "The lead source")),
                    prop(
                        "campaign",
                        string(true, "The campaign; null for the source as a whole"),
                    ),
                    prop("month", month("YYYY-MM")),
                    prop("amount", number(false, "The spend")),
                    prop("created_at", date_time(false, "When it was first recorded")),
                    prop("updated_at", date_time(false, "When it last changed")),
                ],
            ),
        );
        self.schema(
            "ChannelCostInput",
            request_object(
                "Spend to record; the same source, campaign and month again replaces the amount",
                vec![
                    prop(
                        "source",
                        code_schema(CodeSet::Source, false, "The lead source"),
                    ),
                    prop("campaign", string(true, "A campaign of it, or none")),
                    prop("month", month("YYYY-MM")),
                    prop(
                        "amount",
                        number(false, "At least 0, at most two decimals")
                            .minimum(Some(0))
                            .maximum(Some(10_000_000_000_000_i64)),
                    ),
                ],
                &["source", "month", "amount"],
            ),
        );
        self.schema("ChannelCostList", items("Recorded spend", "ChannelCost"));
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/costs",
            operation("listChannelCosts", "reports", "List recorded spend")
                .description(Some("Admins only; by month, source and campaign."))
                .parameters(Some(vec![
                    query("from", "First month", month("YYYY-MM")).build(),
                    query("to", "Last month", month("YYYY-MM")).build(),
                ]))
                .response("200", json_response("The spend", "ChannelCostList")),
            &[Failure::Forbidden, Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/reports/costs",
            operation("setChannelCost", "reports", "Record spend")
                .description(Some(
                    "Admins only. 201 when new, 200 when it replaced an amount.",
                ))
                .request_body(Some(json_body("ChannelCostInput")))
                .response("201", json_response("Recorded", "ChannelCost"))
                .response("200", json_response("Replaced", "ChannelCost")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/reports/costs/{id}",
            operation("deleteChannelCost", "reports", "Delete recorded spend")
                .description(Some("Admins only."))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );

        let metrics = ["leads", "conversions", "won_amount", "activities"];
        self.schema(
            "TargetInput",
            request_object(
                "A monthly target of a user or a team (give one of user_id, team_id)",
                vec![
                    prop("user_id", int64(true, "A user")),
                    prop(
                        "team_id",
                        int64(true, "A team; its actual counts its subtree's members"),
                    ),
                    prop(
                        "metric",
                        codes(
                            metrics,
                            false,
                            "Leads created, leads converted, amount won, or activities logged",
                        ),
                    ),
                    prop("month", month("YYYY-MM")),
                    prop(
                        "value",
                        number(
                            false,
                            "The target: a whole number, or an amount for won_amount",
                        ),
                    ),
                ],
                &["metric", "month", "value"],
            ),
        );
        self.schema(
            "Target",
            response_object(
                "A target as set",
                vec![
                    prop("user_id", int64(true, "The user")),
                    prop("team_id", int64(true, "The team")),
                    prop("metric", codes(metrics, false, "The metric")),
                    prop("month", month("YYYY-MM")),
                    prop("target", number(false, "The target")),
                ],
            ),
        );
        let attained = response_object(
            "A target with its attainment",
            vec![
                prop("subject", codes(["user", "team"], false, "Whose target")),
                prop("id", int64(false, "The user or team")),
                prop("name", string(true, "Its name")),
                prop("metric", codes(metrics, false, "The metric")),
                prop("target", number(false, "The target")),
                prop("actual", number(false, "The month's actual so far")),
                prop("attainment_pct", pct("actual / target")),
            ],
        );
        self.schema(
            "TargetReport",
            response_object(
                "A month's targets",
                vec![
                    prop("month", month("YYYY-MM")),
                    prop(
                        "items",
                        array(RefOr::T(attained), "Users' targets, then teams'"),
                    ),
                ],
            ),
        );
        self.add(
            HttpMethod::Put,
            "/api/v1/reports/targets",
            operation("setTarget", "reports", "Set a monthly target")
                .description(Some("Admins for anyone; managers for the users and teams of their subtree. Setting it again replaces the value."))
                .request_body(Some(json_body("TargetInput")))
                .response("200", json_response("The target", "Target")),
            &[Failure::NotFound, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/targets",
            operation("targetReport", "reports", "Targets with attainment")
                .description(Some(
                    "The month's targets you may see (your own; a manager's subtree; everything \
                     for an admin), with the actual so far: leads by creation, conversions by the \
                     day converted, won amounts by the day won, activities by the day logged, in \
                     China time.",
                ))
                .parameters(Some(vec![
                    query("month", "The month; default this month", month("YYYY-MM")).build(),
                    query(
                        "format",
                        "`json` (default), `csv` or `xlsx`",
                        codes(["json", "csv", "xlsx"], false, "The format"),
                    )
                    .build(),
                ]))
                .response("200", report_response("The targets", "TargetReport")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/reports/targets",
            operation("deleteTarget", "reports", "Delete a monthly target")
                .description(Some(
                    "Removes the target of one user or one team (give one of user_id, team_id) \
                     for one metric and month. Admins for anyone; managers for the users and \
                     teams of their subtree.",
                ))
                .parameters(Some(vec![
                    query("user_id", "A user", int64(false, "The user id")).build(),
                    query("team_id", "A team", int64(false, "The team id")).build(),
                    query(
                        "metric",
                        "What the target measures",
                        codes(metrics, false, "The metric"),
                    )
                    .build(),
                    query("month", "The month", month("YYYY-MM")).build(),
                ]))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[Failure::NotFound, Failure::Invalid],
        );

        let reason = |amount: bool| {
            let mut props = vec![
                prop(
                    "reason",
                    string(
                        true,
                        "The reason as given (trimmed); null when none was given",
                    ),
                ),
                prop("count", int64(false, "How many gave it")),
                prop("share_pct", pct("count / total")),
            ];
            if amount {
                props.push(prop(
                    "amount",
                    number(false, "The lost deals' amount, in yuan"),
                ));
            }
            response_object("One reason", props)
        };
        for (path, id, summary, schema, amount, doc) in [
            (
                "/api/v1/reports/lost-reasons",
                "lostReasonsReport",
                "Why deals were lost",
                "LostReasonsReport",
                true,
                "The deals you may see lost in the range, per reason given when they were lost.",
            ),
            (
                "/api/v1/reports/disqualify-reasons",
                "disqualifyReasonsReport",
                "Why leads were disqualified",
                "DisqualifyReasonsReport",
                false,
                "Of the leads you may see created in the range, those now disqualified, per \
                 reason given (无效原因).",
            ),
        ] {
            let mut props = range_props();
            props.extend([
                prop(
                    "items",
                    array(
                        RefOr::T(reason(amount)),
                        "The 30 reasons given most, most given first",
                    ),
                ),
                prop("other", int64(false, "How many gave a reason not listed")),
                prop("total", int64(false, "All of them")),
            ]);
            self.schema(schema, response_object(summary, props));
            self.add(
                HttpMethod::Get,
                path,
                operation(id, "reports", summary)
                    .description(Some(doc))
                    .parameters(Some(common(Vec::new())))
                    .response("200", report_response("The report", schema)),
                &[Failure::Invalid],
            );
        }
    }

    /// Qualification checklists, conversion, the pipeline, RFM and handover.
    fn pipeline(&mut self) {
        let item = || {
            response_object(
                "One item of a checklist",
                vec![
                    prop("key", field_key("a-z, 0-9 and _, unique in the checklist")),
                    prop("label", string(false, "The question, as people read it")),
                    prop("required", boolean("Must be met before the lead qualifies")),
                ],
            )
        };
        let checklist_fields = |creating: bool| {
            vec![
                prop("name", text(false, true, 100, "Name")),
                prop(
                    "business_unit",
                    text(true, false, 100, "The business unit it is for"),
                ),
                prop(
                    "product_line",
                    text(true, false, 100, "The product line it is for"),
                ),
                prop(
                    "items",
                    array(
                        request_object(
                            "An item; `required` defaults to true",
                            vec![
                                prop("key", field_key("a-z first, then a-z, 0-9, _")),
                                prop("label", text(false, true, 200, "The question")),
                                prop("required", optional_boolean("Must be met; default true")),
                            ],
                            &["key", "label"],
                        ),
                        if creating {
                            "The items, at most 50"
                        } else {
                            "The items, replacing the old ones; null keeps them"
                        },
                    )
                    .schema_type(typed(Type::Array, true)),
                ),
                prop(
                    "is_default",
                    optional_boolean(
                        "The checklist of leads that have not chosen one; at most one is",
                    ),
                ),
            ]
        };
        self.schema(
            "QualificationChecklist",
            response_object(
                "A qualification checklist (鉴定) for a business unit or product line",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("name", string(false, "Name")),
                    prop("business_unit", string(true, "The business unit it is for")),
                    prop("product_line", string(true, "The product line it is for")),
                    prop("items", array(RefOr::T(item()), "The items, in order")),
                    prop(
                        "is_default",
                        boolean("Applies to leads that have not chosen a checklist"),
                    ),
                    prop("created_at", date_time(false, "When it was created")),
                    prop("updated_at", date_time(false, "When it last changed")),
                ],
            ),
        );
        self.schema(
            "QualificationChecklistInput",
            request_object("A new checklist", checklist_fields(true), &["name"]),
        );
        self.schema(
            "QualificationChecklistPatch",
            request_object(
                "Changes to a checklist: only the fields given change",
                checklist_fields(false),
                &[],
            ),
        );
        self.schema(
            "QualificationChecklistList",
            items("Every checklist, oldest first", "QualificationChecklist"),
        );
        self.schema(
            "LeadQualification",
            response_object(
                "Where a lead stands against the checklist that applies to it",
                vec![
                    prop("lead_id", int64(false, "The lead")),
                    prop(
                        "checklist_id",
                        int64(
                            true,
                            "The checklist that applies: the one chosen, else the default; \
                             null when neither exists (the lead qualifies freely)",
                        ),
                    ),
                    prop("checklist_name", string(true, "Its name")),
                    prop(
                        "chosen",
                        boolean("True when the lead chose it, false for the default"),
                    ),
                    prop(
                        "items",
                        array(
                            RefOr::T(response_object(
                                "An item and whether it is met",
                                vec![
                                    prop("key", string(false, "The key")),
                                    prop("label", string(false, "The question")),
                                    prop("required", boolean("Required to qualify")),
                                    prop("met", boolean("Ticked on this lead")),
                                ],
                            )),
                            "The checklist's items",
                        ),
                    ),
                    prop(
                        "missing",
                        array(string(false, "A key"), "Required items not met yet"),
                    ),
                    prop(
                        "complete",
                        boolean("Every required item is met: the lead may qualify"),
                    ),
                    prop("updated_at", date_time(true, "When items were last ticked")),
                ],
            ),
        );
        self.schema(
            "LeadQualificationInput",
            request_object(
                "The lead's checklist and ticked items",
                vec![
                    prop(
                        "checklist_id",
                        int64(
                            true,
                            "The checklist to use; absent keeps the current choice, null goes \
                             back to the default",
                        ),
                    ),
                    prop(
                        "items",
                        ObjectBuilder::new()
                            .schema_type(typed(Type::Object, true))
                            .description(Some(
                                "Item key → true (met) or false; replaces the ticked items; null \
                                 keeps them",
                            ))
                            .additional_properties(Some(AdditionalProperties::RefOr(
                                boolean("Met").into(),
                            ))),
                    ),
                ],
                &[],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/qualification-checklists",
            operation(
                "listQualificationChecklists",
                "qualification",
                "List qualification checklists",
            )
            .response(
                "200",
                json_response("Every checklist", "QualificationChecklistList"),
            ),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/qualification-checklists",
            operation(
                "createQualificationChecklist",
                "qualification",
                "Create a qualification checklist",
            )
            .description(Some(
                "Admins only. Marking it `is_default` takes the mark from any other checklist.",
            ))
            .request_body(Some(json_body("QualificationChecklistInput")))
            .response("201", json_response("Created", "QualificationChecklist")),
            &[Failure::Invalid],
        );
        let checklist = "/api/v1/qualification-checklists/{id}";
        self.add(
            HttpMethod::Get,
            checklist,
            operation(
                "getQualificationChecklist",
                "qualification",
                "Get a qualification checklist",
            )
            .response(
                "200",
                json_response("The checklist", "QualificationChecklist"),
            ),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            checklist,
            operation(
                "updateQualificationChecklist",
                "qualification",
                "Change a qualification checklist",
            )
            .description(Some(
                "Admins only. Ticks on leads for items that no longer exist stop counting.",
            ))
            .request_body(Some(json_body("QualificationChecklistPatch")))
            .response(
                "200",
                json_response("The checklist", "QualificationChecklist"),
            ),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            checklist,
            operation(
                "deleteQualificationChecklist",
                "qualification",
                "Delete a qualification checklist",
            )
            .description(Some(
                "Admins only. Leads that had chosen it fall back to the default checklist.",
            ))
            .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
        let qualification = "/api/v1/leads/{id}/qualification";
        self.add(
            HttpMethod::Get,
            qualification,
            operation(
                "getLeadQualification",
                "qualification",
                "A lead's qualification",
            )
            .response("200", json_response("Where it stands", "LeadQualification")),
            &[],
        );
        self.add(
            HttpMethod::Put,
            qualification,
            operation(
                "putLeadQualification",
                "qualification",
                "Choose a lead's checklist and tick its items",
            )
            .description(Some(
                "A lead becomes `qualified` (through any channel) only when every required item \
                 of its checklist is met; otherwise the change answers 422 naming the missing \
                 items. Each tick is in the lead's history as `qualification.KEY`. A converted \
                 lead is read-only (409).",
            ))
            .request_body(Some(json_body("LeadQualificationInput")))
            .response("200", json_response("Where it stands", "LeadQualification")),
            &[Failure::Conflict, Failure::Invalid],
        );

        self.schema(
            "ConversionInput",
            request_object(
                "What to convert the lead into",
                vec![
                    prop(
                        "account_id",
                        int64(
                            true,
                            "An account you can see to link; absent: the oldest account you \
                             can see with the lead's company key, else a new one",
                        ),
                    ),
                    prop(
                        "create_opportunity",
                        optional_boolean(
                            "Create an opportunity; absent: only when `opportunity` is sent",
                        ),
                    ),
                    prop(
                        "opportunity",
                        request_object(
                            "The new opportunity; each field is optional; null for none",
                            vec![
                                prop(
                                    "name",
                                    string(false, "Default: the lead's company, else its name"),
                                ),
                                prop(
                                    "amount",
                                    scalar(Type::Number, true, "At most two decimals")
                                        .minimum(Some(0)),
                                ),
                                prop("expected_close_date", date(true, "YYYY-MM-DD")),
                                prop(
                                    "stage",
                                    string(false, "An active open or won stage; default `met`"),
                                ),
                            ],
                            &[],
                        )
                        .schema_type(typed(Type::Object, true)),
                    ),
                ],
                &[],
            ),
        );
        self.schema(
            "Conversion",
            ObjectBuilder::new()
                .description(Some("What the lead became"))
                .property("lead", Ref::from_schema_name("Lead"))
                .required("lead")
                .property("account", Ref::from_schema_name("Account"))
                .required("account")
                .property("contact", Ref::from_schema_name("Contact"))
                .required("contact")
                .property(
                    "opportunity",
                    utoipa::openapi::schema::OneOfBuilder::new()
                        .item(Ref::from_schema_name("Opportunity"))
                        .item(ObjectBuilder::new().schema_type(Type::Null))
                        .description(Some("Null when none was asked for")),
                )
                .required("opportunity"),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/leads/{id}/convert",
            operation("convertLead", "leads", "Convert a lead")
                .description(Some(
                    "In one transaction: links or creates the account, creates the contact \
                     (name, title, phone, email) and, if asked, the opportunity, all owned by \
                     the lead's owner; the lead becomes `converted` and read-only with \
                     `converted_account_id`, `converted_contact_id`, `converted_opportunity_id` \
                     and `converted_at`; its follow-ups show on the account; the history records \
                     a `convert` entry; `lead.converted` is raised and the owner notified. Any \
                     lead that is not converted (409) or disqualified (422) can be converted once \
                     its qualification checklist is met (422 naming the missing items). A bad \
                     opportunity field is a 422 naming it, such as `opportunity.amount`; on any \
                     error nothing is written.",
                ))
                .request_body(Some(json_body("ConversionInput")))
                .response("200", json_response("Converted", "Conversion")),
            &[Failure::Conflict, Failure::Invalid],
        );

        let created_record = |doc: &str, kept: bool| {
            let mut props = vec![
                prop(
                    "type",
                    codes(["account", "contact", "opportunity"], false, "Record type"),
                ),
                prop("id", int64(false, "Its id")),
            ];
            if kept {
                props.push(prop(
                    "reason",
                    codes(
                        ["closed", "activities", "opportunities", "contacts", "leads"],
                        false,
                        "What uses it: the deal was won or lost, follow-ups, other deals, \
                         contacts or converted leads",
                    ),
                ));
            }
            response_object(doc, props)
        };
        self.schema(
            "ConversionUndo",
            response_object(
                "What undoing the conversion did",
                vec![
                    prop("lead", Ref::from_schema_name("Lead")),
                    prop(
                        "archived",
                        array(
                            RefOr::T(created_record("An archived record", false)),
                            "Records the conversion created, now archived",
                        ),
                    ),
                    prop(
                        "kept",
                        array(
                            RefOr::T(created_record("A kept record", true)),
                            "Records the conversion created that something else uses by now",
                        ),
                    ),
                ],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/leads/{id}/conversion/undo",
            operation("undoLeadConversion", "leads", "Undo a conversion")
                .description(Some(
                    "For a conversion made by mistake, in one transaction: the lead reopens with \
                     the status it had before and loses its `converted_*` links; the \
                     opportunity, contact and account the conversion created are archived \
                     (soft-deleted; `?deleted=true` lists them) unless something else uses them \
                     by now (a won or lost deal, follow-ups, other deals, contacts or converted \
                     leads), and an existing account it linked to is left alone. The history \
                     keeps the conversion and records a `convert_undo` entry on the lead and a \
                     `conversion_undone` entry on each record. The lead's owner, a manager \
                     whose scope covers it and admins may do it (403 for another rep); a lead \
                     that is not converted, such as one undone already, is a 409.",
                ))
                .response("200", json_response("Undone", "ConversionUndo")),
            &[Failure::Forbidden, Failure::Conflict],
        );

        let stage_kind = || codes(["open", "won", "lost"], false, "What reaching it means");
        self.schema(
            "PipelineStage",
            response_object(
                "A pipeline stage (阶段)",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("code", string(false, "The code deals store in `stage`")),
                    prop("name_zh", string(false, "Chinese name")),
                    prop("name_en", string(false, "English name")),
                    prop(
                        "probability",
                        int64(false, "Win probability in percent that deals take"),
                    ),
                    prop("position", int64(false, "Order in the pipeline")),
                    prop("kind", stage_kind()),
                    prop("active", boolean("Deals may move to it")),
                ],
            ),
        );
        let stage_fields = || {
            vec![
                prop("name_zh", text(false, true, 50, "Chinese name")),
                prop(
                    "name_en",
                    text(
                        false,
                        false,
                        50,
                        "English name; empty or absent: the Chinese one",
                    ),
                ),
                prop(
                    "probability",
                    scalar(Type::Integer, false, "Percent")
                        .minimum(Some(0))
                        .maximum(Some(100)),
                ),
                prop(
                    "position",
                    int64(true, "Order; default last")
                        .minimum(Some(0))
                        .maximum(Some(1_000_000)),
                ),
                prop(
                    "kind",
                    codes(
                        ["open", "won", "lost"],
                        true,
                        "What reaching it means; null: open on create, unchanged on a change",
                    ),
                ),
                prop(
                    "active",
                    optional_boolean("Deals may move to it; default true"),
                ),
            ]
        };
        let mut new_stage = vec![prop(
            "code",
            field_key("a-z first, then a-z, 0-9, _; fixed once created"),
        )];
        new_stage.extend(stage_fields());
        self.schema(
            "PipelineStageInput",
            request_object(
                "A new stage",
                new_stage,
                &["code", "name_zh", "probability"],
            ),
        );
        self.schema(
            "PipelineStagePatch",
            request_object(
                "Changes to a stage: only the fields given change",
                stage_fields(),
                &[],
            ),
        );
        self.schema(
            "PipelineStageList",
            items("Every stage, in pipeline order", "PipelineStage"),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/pipeline/stages",
            operation("listPipelineStages", "pipeline", "List the pipeline stages")
                .description(Some(
                    "Seeded with met 见到客户 (10%), found 发现机会 (20%), confirmed 确认机会 \
                     (30%), needs 明确需求 (40%), proposal 方案报价 (60%), commitment 客户承诺 \
                     (80%), acceptance 验收 (90%), paid 收款 (100%, won) and lost 输单 (0%, lost).",
                ))
                .response("200", json_response("The stages", "PipelineStageList")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/pipeline/stages",
            operation("createPipelineStage", "pipeline", "Add a pipeline stage")
                .description(Some("Admins only. A code that exists answers 409."))
                .request_body(Some(json_body("PipelineStageInput")))
                .response("201", json_response("Created", "PipelineStage")),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/pipeline/stages/{id}",
            operation("updatePipelineStage", "pipeline", "Change a pipeline stage")
                .description(Some(
                    "Admins only. The code cannot change (422), nor the kind of a stage that \
                     holds deals (409); every kind keeps an active stage (422). Open deals at the \
                     stage that had its old probability take the new one.",
                ))
                .request_body(Some(json_body("PipelineStagePatch")))
                .response("200", json_response("The stage", "PipelineStage")),
            &[Failure::Conflict, Failure::Invalid],
        );
        let stage = || {
            prop(
                "stage",
                string(
                    true,
                    "A stage of that kind; empty or null: the first active one (paid, lost)",
                )
                .pattern(Some("^([a-z][a-z0-9_]{0,39})?$")),
            )
        };
        self.schema(
            "CloseInput",
            request_object(
                "Why the deal was won",
                vec![
                    prop("reason", text(true, false, 1000, "Why, if you like")),
                    stage(),
                ],
                &[],
            ),
        );
        self.schema(
            "LoseInput",
            request_object(
                "Why the deal was lost",
                vec![prop("reason", text(false, true, 1000, "Why")), stage()],
                &["reason"],
            ),
        );
        for (won, id, summary, body) in [
            (true, "winOpportunity", "Win a deal", "CloseInput"),
            (false, "loseOpportunity", "Lose a deal", "LoseInput"),
        ] {
            let verb = if won { "win" } else { "lose" };
            self.add(
                HttpMethod::Post,
                &format!("/api/v1/opportunities/{{id}}/{verb}"),
                operation(id, "opportunities", summary)
                    .description(Some(
                        "Moves the deal to a won (lost) stage with that stage's probability, \
                         sets `result`, `close_reason` and `closed_at`, records the change in the \
                         history and raises `opportunity.stage_changed`. A deal already won \
                         (lost) answers 409. A deal is lost only this way; moving it back to an \
                         open stage with PATCH reopens it.",
                    ))
                    .request_body(Some(json_body(body)))
                    .response("200", json_response("The deal", "Opportunity")),
                &[Failure::Conflict, Failure::Invalid],
            );
        }
        let amount = |doc: &str| scalar(Type::Number, false, doc);
        let figures = |with_month: bool| {
            let mut props = Vec::new();
            if with_month {
                props.push(prop("month", month("YYYY-MM")));
            }
            props.extend([
                prop("open_count", int64(false, "Open deals expected to close")),
                prop("open_amount", amount("Their amount")),
                prop("weighted_amount", amount("Their amount × probability")),
                prop(
                    "won_count",
                    int64(false, "Deals won (by the day won, China time)"),
                ),
                prop("won_amount", amount("Their amount")),
            ]);
            response_object(
                if with_month {
                    "One month"
                } else {
                    "All months"
                },
                props,
            )
        };
        self.schema(
            "Forecast",
            response_object(
                "The weighted pipeline forecast by month",
                vec![
                    prop("from", month("First month, YYYY-MM")),
                    prop("to", month("Last month, YYYY-MM")),
                    prop(
                        "items",
                        array(RefOr::T(figures(true)), "Every month from `from` to `to`"),
                    ),
                    prop("total", figures(false)),
                ],
            ),
        );
        let owner_filter = || {
            comma_list(
                "owner_id",
                "Only deals of these owners (within your scope)",
                int64(false, "A user id"),
            )
            .build()
        };
        self.add(
            HttpMethod::Get,
            "/api/v1/pipeline/forecast",
            operation("pipelineForecast", "pipeline", "Weighted forecast by month")
                .description(Some(
                    "Deals you may see: open ones by the month of `expected_close_date`, with \
                     amount × probability; won ones by the month they were won.",
                ))
                .parameters(Some(vec![
                    query("from", "First month; default this month", month("YYYY-MM")).build(),
                    query(
                        "to",
                        "Last month; default five months after `from`; at most 60 months",
                        month("YYYY-MM"),
                    )
                    .build(),
                    owner_filter(),
                ]))
                .response("200", json_response("The forecast", "Forecast")),
            &[Failure::Invalid],
        );
        self.schema(
            "PipelineBoard",
            response_object(
                "The kanban summary: one column per stage",
                vec![prop(
                    "items",
                    array(
                        ObjectBuilder::new()
                            .description(Some(
                                "A stage (as in PipelineStage) with its deals' figures: `count`, \
                                 `amount`, `weighted_amount`",
                            ))
                            .additional_properties(Some(AdditionalProperties::FreeForm(true))),
                        "Active stages, and inactive ones that still hold deals, in order",
                    ),
                )],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/pipeline/board",
            operation("pipelineBoard", "pipeline", "Deals per stage")
                .parameters(Some(vec![owner_filter(), close_month_parameter().build()]))
                .response("200", json_response("The board", "PipelineBoard")),
            &[Failure::Invalid],
        );

        self.schema(
            "AccountRfm",
            response_object(
                "An account's value from its won deals (RFM)",
                vec![
                    prop("account_id", int64(false, "The account")),
                    prop("account_name", string(false, "Its name")),
                    prop("owner_id", int64(true, "Its owner")),
                    prop("recency_days", int64(true, "Days since the last win")),
                    prop("frequency", int64(false, "Deals won")),
                    prop("monetary", amount("Amount won")),
                    prop("last_won_at", date_time(true, "The last win")),
                    prop(
                        "recency_score",
                        int64(true, "5: ≤30 days, 4: ≤90, 3: ≤180, 2: ≤365, else 1"),
                    ),
                    prop(
                        "frequency_score",
                        int64(true, "5: ≥10 deals, 4: ≥5, 3: ≥3, 2: 2, else 1"),
                    ),
                    prop(
                        "monetary_score",
                        int64(
                            true,
                            "5: ≥1,000,000, 4: ≥500,000, 3: ≥100,000, 2: ≥20,000, else 1",
                        ),
                    ),
                    prop("score", int64(true, "The sum of the three")),
                    prop(
                        "class",
                        codes(
                            ["A", "B", "C"],
                            true,
                            "A: score ≥ 12, B: ≥ 8, else C; null without wins",
                        ),
                    ),
                    prop("a_class", boolean("An A-class customer")),
                ],
            ),
        );
        self.schema(
            "RfmReport",
            response_object(
                "Accounts with won deals, best first",
                vec![
                    prop(
                        "items",
                        array(Ref::from_schema_name("AccountRfm"), "One page"),
                    ),
                    prop("total", int64(false, "Accounts matching")),
                    prop(
                        "counts",
                        ObjectBuilder::new()
                            .description(Some("Accounts per class: A, B, C"))
                            .additional_properties(Some(AdditionalProperties::RefOr(
                                int64(false, "Accounts").into(),
                            ))),
                    ),
                    prop("page", int64(false, "This page")),
                    prop("limit", int64(false, "Accounts per page")),
                ],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/accounts/{id}/rfm",
            operation("accountRfm", "accounts", "An account's RFM value")
                .description(Some(
                    "Computed from all the account's won deals when asked, so never stale.",
                ))
                .response("200", json_response("Its RFM", "AccountRfm")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/reports/rfm",
            operation("rfmReport", "accounts", "RFM of your accounts")
                .description(Some(
                    "The accounts you may see that have won deals, by class, then score, then \
                     amount.",
                ))
                .parameters(Some(vec![
                    comma_list(
                        "class",
                        "Only these classes",
                        codes(["A", "B", "C"], false, "A class"),
                    )
                    .build(),
                    query(
                        "limit",
                        "Accounts per page",
                        scalar(Type::Integer, false, "Page size")
                            .minimum(Some(1))
                            .maximum(Some(500))
                            .default(Some(json!(50))),
                    )
                    .build(),
                    query(
                        "page",
                        "The page, from 1",
                        scalar(Type::Integer, false, "Page")
                            .minimum(Some(1))
                            .maximum(Some(1_000_000)),
                    )
                    .build(),
                ]))
                .response("200", json_response("One page", "RfmReport")),
            &[Failure::Invalid],
        );

        let record_types = || {
            codes(
                ["lead", "account", "contact", "opportunity"],
                false,
                "A record type",
            )
        };
        self.schema(
            "HandoverInput",
            request_object(
                "Who takes the records, and which",
                vec![
                    prop(
                        "to_user_id",
                        int64(false, "An active user within your scope"),
                    ),
                    prop(
                        "record_types",
                        array(
                            record_types(),
                            "Which records; left out or null: all four types",
                        )
                        .schema_type(typed(Type::Array, true))
                        .min_items(Some(1)),
                    ),
                ],
                &["to_user_id"],
            ),
        );
        self.schema(
            "Handover",
            response_object(
                "What moved",
                vec![
                    prop("from_user_id", int64(false, "Who had them")),
                    prop("to_user_id", int64(false, "Who has them now")),
                    prop(
                        "counts",
                        ObjectBuilder::new()
                            .description(Some("Records moved, by record type"))
                            .additional_properties(Some(AdditionalProperties::RefOr(
                                int64(false, "Records").into(),
                            ))),
                    ),
                    prop("total", int64(false, "Records moved")),
                ],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/users/{id}/handover",
            operation("handoverRecords", "users", "Hand over a user's records")
                .description(Some(
                    "Admins, and managers for users within their scope (403 otherwise): every \
                     lead, account, contact and opportunity the user owns — deleted ones too — \
                     goes to `to_user_id` in one transaction, each change in the record's history \
                     with your channel. Leads' timers restart and `lead.assigned` is raised; the \
                     new owner is notified.",
                ))
                .request_body(Some(json_body("HandoverInput")))
                .response("200", json_response("What moved", "Handover")),
            &[Failure::Invalid],
        );
    }

    /// The files of each record type, generated per table spec; an attachment's own routes
    /// document themselves (`crate::api`).
    fn record_attachments(&mut self) {
        self.schema("Attachment", <Attachment as PartialSchema>::schema());
        self.schema(
            "AttachmentList",
            <AttachmentList as PartialSchema>::schema(),
        );
        let binary = |what: &str| {
            Content::new(Some(
                string(false, what).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
            ))
        };
        for table in TABLES {
            let one = capitalized(table.record_type.code());
            let a = with_article(table.record_type.code());
            let path = format!("/api/v1/{}/{{id}}/attachments", table.name);
            self.add(
                HttpMethod::Get,
                &path,
                operation(
                    &format!("list{one}Attachments"),
                    "attachments",
                    &format!("Files of {a}"),
                )
                .response("200", json_response("The files", "AttachmentList")),
                &[],
            );
            let upload = RequestBodyBuilder::new()
                .required(Some(Required::True))
                .description(Some(
                    "The file as the raw body (named by `filename` or an `X-Filename` header, \
                     percent-encoded), or as the file part of a multipart form. At most 20 \
                     MiB.",
                ))
                .content("application/octet-stream", binary("The file"))
                .content(
                    "multipart/form-data",
                    Content::new(Some(
                        ObjectBuilder::new()
                            .property(
                                "file",
                                string(false, "The file, with its name")
                                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
                            )
                            .required("file"),
                    )),
                )
                .build();
            self.add(
                HttpMethod::Post,
                &path,
                operation(
                    &format!("upload{one}Attachment"),
                    "attachments",
                    &format!("Attach a file to {a}"),
                )
                .description(Some(
                    "Whoever can see the record. An empty file or a missing name is a 422; a \
                     converted lead is read-only (409).",
                ))
                .parameter(query(
                    "filename",
                    "The file's name, for a raw body",
                    string(false, "A file name").min_length(Some(1)),
                ))
                .parameter(query(
                    "activity_id",
                    "A follow-up of the same record the file belongs to",
                    int64(false, "An activity id"),
                ))
                .request_body(Some(upload))
                .response("201", json_response("The stored file", "Attachment")),
                &[Failure::Invalid, Failure::Conflict],
            );
            if let Some(op) = self
                .paths
                .paths
                .get_mut(&path)
                .and_then(|item| item.post.as_mut())
            {
                op.responses.responses.insert(
                    "413".to_owned(),
                    json_response(
                        "`payload_too_large`: the file is larger than 20 MiB",
                        "Error",
                    )
                    .build()
                    .into(),
                );
            }
        }
    }

    fn scoring_and_assignment(&mut self) {
        use xiansuo_core::assignment::Strategy;
        use xiansuo_core::lead::{EventType, Region, Tier};
        use xiansuo_core::rules::Operator;
        use xiansuo_core::scoring::RuleKind as ScoringKind;

        let operators = || Operator::ALL.iter().map(|o| o.code());
        let condition = || {
            request_object(
                "A test of one lead field: all of a rule's conditions must hold",
                vec![
                    prop(
                        "field",
                        string(
                            false,
                            "A lead field (title, company_size, industry, province, city, source, \
                             status, grade, urgency, demand_stage, tags, …), `region` (north, \
                             northeast, east, central, south, southwest, northwest, hk_mo_tw; from \
                             the province) or `custom.KEY`. Assignment rules may also test `score` \
                             and `tier`",
                        ),
                    ),
                    prop(
                        "operator",
                        codes(
                            operators(),
                            false,
                            "eq, ne, in (value is a list), contains (text or list), gt/gte/lt/lte \
                             (numbers and dates), exists (value true or false)",
                        ),
                    ),
                    prop(
                        "value",
                        any(
                            "What to compare with, of the field's type. Text compares ignoring \
                             case; provinces and cities without 省/市 (广东 matches 广东省)",
                        ),
                    ),
                ],
                &["field", "operator"],
            )
        };
        let conditions = || array(condition(), "Conditions; all must hold");
        let event_types = || EventType::ALL.iter().map(|t| t.code());
        let event_filter = || {
            request_object(
                "The behaviour events a rule counts",
                vec![
                    prop("type", codes(event_types(), false, "The event type")),
                    prop(
                        "name",
                        string(true, "Only events with this name (ignoring case)"),
                    ),
                    prop(
                        "url",
                        string(true, "Only events whose URL contains this (ignoring case)"),
                    ),
                ],
                &["type"],
            )
            .schema_type(typed(Type::Object, true))
        };
        let kinds = || ScoringKind::ALL.iter().map(|k| k.code());
        let scoring_fields = || {
            vec![
                prop("name", text(false, true, 100, "Shown in breakdowns")),
                prop(
                    "kind",
                    codes(
                        kinds(),
                        false,
                        "fit: conditions on fields; engagement: events; negative: conditions or \
                         events that take points away",
                    ),
                ),
                prop("active", boolean("Inactive rules count nothing; default true")),
                prop(
                    "conditions",
                    conditions().description(Some(
                        "Fit rules, and negative rules on fields: all must hold",
                    )),
                ),
                prop("event", event_filter()),
                prop(
                    "points",
                    scalar(Type::Integer, false, "Points when the conditions hold, or per event: 1 to 10000 for fit and engagement rules, -10000 to -1 for negative rules")
                        .minimum(Some(-10_000))
                        .maximum(Some(10_000)),
                ),
                prop(
                    "half_life_days",
                    scalar(
                        Type::Number,
                        true,
                        "Rules on events: an event's points halve every this many days (none: \
                         they never fade)",
                    ),
                ),
                prop(
                    "max_points",
                    scalar(
                        Type::Integer,
                        true,
                        "Rules on events: the most the rule adds (or takes away) in total",
                    )
                    .minimum(Some(1))
                    .maximum(Some(100_000)),
                ),
            ]
        };
        let mut shown = scoring_fields();
        shown.insert(0, prop("id", int64(false, "Unique id")));
        shown.extend([
            prop("created_at", date_time(false, "When it was created")),
            prop("updated_at", date_time(false, "When it last changed")),
        ]);
        self.schema("ScoringRule", response_object("A scoring rule", shown));
        self.schema(
            "ScoringRuleInput",
            request_object(
                "A new scoring rule",
                scoring_fields(),
                &["name", "kind", "points"],
            ),
        );
        self.schema(
            "ScoringRulePatch",
            request_object(
                "Changes to a scoring rule: the fields given replace the stored ones and the \
                 whole rule is checked again",
                scoring_fields(),
                &[],
            ),
        );
        self.schema(
            "ScoringRuleList",
            items("Every scoring rule, oldest first", "ScoringRule"),
        );
        let settings_fields = || {
            vec![
                prop(
                    "max_score",
                    int64(false, "No score is above this (default 100)")
                        .minimum(Some(1))
                        .maximum(Some(100000)),
                ),
                prop(
                    "high_threshold",
                    int64(
                        false,
                        "A score at or above this is high potential (default 70)",
                    )
                    .minimum(Some(0))
                    .maximum(Some(100000)),
                ),
                prop(
                    "medium_threshold",
                    int64(
                        false,
                        "A score at or above this is medium potential (default 40)",
                    )
                    .minimum(Some(0))
                    .maximum(Some(100000)),
                ),
            ]
        };
        self.schema(
            "ScoringSettings",
            response_object(
                "The cap on scores and the tier thresholds",
                settings_fields(),
            ),
        );
        self.schema(
            "ScoringSettingsPatch",
            request_object(
                "Changes to the scoring settings; 0 ≤ medium ≤ high ≤ max_score",
                settings_fields(),
                &[],
            ),
        );
        let tiers = || Tier::ALL.iter().map(|t| t.code());
        self.schema(
            "LeadScore",
            response_object(
                "A lead's score and the rules it came from",
                vec![
                    prop("score", int64(false, "The score, from 0 to max_score")),
                    prop("tier", codes(tiers(), true, "Potential (潜力)")),
                    prop(
                        "items",
                        array(
                            RefOr::T(response_object(
                                "What one rule gave",
                                vec![
                                    prop("rule_id", int64(false, "The scoring rule")),
                                    prop("rule_name", string(false, "Its name")),
                                    prop(
                                        "points",
                                        int64(false, "Points, negative for negative rules"),
                                    ),
                                ],
                            )),
                            "One per rule that gave points; empty while no rule scores the lead",
                        ),
                    ),
                ],
            ),
        );
        self.schema(
            "LeadEvent",
            response_object(
                "A behaviour event of a lead",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("lead_id", int64(false, "The lead")),
                    prop("type", codes(event_types(), false, "The event type")),
                    prop(
                        "name",
                        string(true, "Its name, such as an event or email campaign"),
                    ),
                    prop("url", string(true, "The page or file")),
                    prop("occurred_at", date_time(false, "When it happened")),
                    prop("created_by", int64(true, "Who posted it")),
                    prop("created_at", date_time(false, "When it was posted")),
                ],
            ),
        );
        self.schema(
            "LeadEventInput",
            request_object(
                "A behaviour event",
                vec![
                    prop("type", codes(event_types(), false, "The event type")),
                    prop("name", text(true, false, 200, "Its name")),
                    prop("url", text(true, false, 2000, "The page or file")),
                    prop(
                        "occurred_at",
                        date_time(true, "When it happened (default now; at most a day ahead)"),
                    ),
                ],
                &["type"],
            ),
        );
        self.schema(
            "LeadEventCreated",
            response_object(
                "The event and the lead's score after it",
                vec![
                    prop("event", Ref::from_schema_name("LeadEvent")),
                    prop("score", Ref::from_schema_name("LeadScore")),
                ],
            ),
        );
        self.schema(
            "LeadEventList",
            items("The latest 500 events, newest first", "LeadEvent"),
        );

        let tag = "scoring";
        self.add(
            HttpMethod::Get,
            "/api/v1/scoring/rules",
            operation("listScoringRules", tag, "List scoring rules")
                .description(Some("Admins only."))
                .response("200", json_response("Every rule", "ScoringRuleList")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/scoring/rules",
            operation("createScoringRule", tag, "Add a scoring rule")
                .description(Some(
                    "Admins only. A condition naming a field, custom field or operator that does \
                     not exist is a 422 naming it. Every lead is rescored by a background job.",
                ))
                .request_body(Some(json_body("ScoringRuleInput")))
                .response("201", json_response("Created", "ScoringRule")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/scoring/rules/{id}",
            operation("getScoringRule", tag, "Get a scoring rule")
                .description(Some("Admins only."))
                .response("200", json_response("The rule", "ScoringRule")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/scoring/rules/{id}",
            operation("updateScoringRule", tag, "Change a scoring rule")
                .description(Some(
                    "Admins only. Every lead is rescored by a background job.",
                ))
                .request_body(Some(json_body("ScoringRulePatch")))
                .response("200", json_response("Changed", "ScoringRule")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/scoring/rules/{id}",
            operation("deleteScoringRule", tag, "Delete a scoring rule")
                .description(Some(
                    "Admins only. Every lead is rescored by a background job.",
                ))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
        self.schema(
            "ScoringPreviewInput",
            request_object(
                "A rule to try before saving it",
                vec![
                    prop(
                        "rule_id",
                        int64(false, "A stored rule to change; leave out for a new rule"),
                    ),
                    prop(
                        "rule",
                        scalar(
                            Type::Object,
                            false,
                            "A new rule as `createScoringRule` takes it; with `rule_id`, the \
                             fields to change as `updateScoringRule` takes them",
                        ),
                    ),
                ],
                &["rule"],
            ),
        );
        self.schema(
            "TierCounts",
            response_object(
                "How many leads are in each tier",
                vec![
                    prop("high", int64(false, "High potential")),
                    prop("medium", int64(false, "Medium potential")),
                    prop("low", int64(false, "Low potential")),
                ],
            ),
        );
        self.schema(
            "ScoringPreview",
            response_object(
                "What saving the rule would do to a sample of leads",
                vec![
                    prop(
                        "sample_size",
                        int64(
                            false,
                            "Leads looked at: the newest ones not deleted or converted",
                        ),
                    ),
                    prop("sample_limit", int64(false, "The most a sample holds")),
                    prop(
                        "sampled",
                        boolean("Whether there are more such leads than the sample holds"),
                    ),
                    prop(
                        "changed",
                        int64(
                            false,
                            "Leads of the sample whose score or tier would change",
                        ),
                    ),
                    prop("before", Ref::from_schema_name("TierCounts")),
                    prop("after", Ref::from_schema_name("TierCounts")),
                ],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/scoring/preview",
            operation(
                "previewScoringRule",
                tag,
                "Try a scoring rule before saving it",
            )
            .description(Some(
                "Admins only. A dry run: scores the newest 20,000 leads that are not deleted \
                     or converted as they would be scored with the rule saved, and counts the \
                     tiers now and after. Nothing is written. A rule that saving would refuse is \
                     a 422 naming the field.",
            ))
            .request_body(Some(json_body("ScoringPreviewInput")))
            .response("200", json_response("The counts", "ScoringPreview")),
            &[Failure::NotFound, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/scoring/settings",
            operation("getScoringSettings", tag, "The cap and tier thresholds")
                .response("200", json_response("The settings", "ScoringSettings")),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/scoring/settings",
            operation(
                "updateScoringSettings",
                tag,
                "Change the cap and tier thresholds",
            )
            .description(Some(
                "Admins only. Every lead is rescored by a background job.",
            ))
            .request_body(Some(json_body("ScoringSettingsPatch")))
            .response("200", json_response("The settings", "ScoringSettings")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/leads/{id}/score",
            operation("getLeadScore", tag, "A lead's score with its breakdown")
                .response("200", json_response("The score", "LeadScore")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/leads/{id}/events",
            operation("listLeadEvents", tag, "A lead's behaviour events")
                .response("200", json_response("The events", "LeadEventList")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/leads/{id}/events",
            operation("createLeadEvent", tag, "Record a behaviour event")
                .description(Some(
                    "A page view, download, event attended, email opened, form submitted or \
                     custom event of a lead you can see; the lead is rescored at once.",
                ))
                .request_body(Some(json_body("LeadEventInput")))
                .response("201", json_response("Recorded", "LeadEventCreated")),
            &[Failure::Invalid],
        );

        let strategies = || Strategy::ALL.iter().map(|s| s.code());
        let regions = || Region::ALL.iter().map(|r| r.code());
        let member = || {
            request_object(
                "A member and their weight",
                vec![
                    prop("user_id", int64(false, "An active user")),
                    prop(
                        "weight",
                        scalar(Type::Integer, false, "Their share for the weighted and territory strategies: 1 to 100, default 1")
                            .minimum(Some(1))
                            .maximum(Some(100)),
                    ),
                ],
                &["user_id"],
            )
        };
        let territory = || {
            request_object(
                "A place and the member who covers it: the lead's city first, then its \
                 province, then its region",
                vec![
                    prop(
                        "province",
                        string(true, "A province (广东, 广东省 or Guangdong)"),
                    ),
                    prop("city", string(true, "A city (深圳 or 深圳市)")),
                    prop("region", codes(regions(), true, "A region of China")),
                    prop("user_id", int64(false, "The member")),
                ],
                &["user_id"],
            )
        };
        let target =
            || {
                request_object(
                    "Who gets the leads: a user, a team's active users, a list of members, or a \
                 queue (public pool: no owner until someone claims the lead)",
                    vec![
                    prop(
                        "type",
                        codes(["user", "team", "members", "queue"], false, "The kind of target"),
                    ),
                    prop("user_id", int64(false, "type user: the user")),
                    prop("team_id", int64(false, "type team: the team")),
                    prop(
                        "include_subteams",
                        boolean("type team: also the users of the teams below it"),
                    ),
                    prop(
                        "strategy",
                        codes(
                            strategies(),
                            false,
                            "type team and members: round_robin (in turn), weighted (in turn by \
                             weight), least_loaded (fewest open leads), territory (by place); \
                             default round_robin",
                        ),
                    ),
                    prop("members", array(member(), "type members: 1 to 500 members")),
                    prop(
                        "weights",
                        array(member(), "type team: weights of some members (others 1)"),
                    ),
                    prop(
                        "territories",
                        array(territory(), "Strategy territory: the places and their members"),
                    ),
                    prop("pool_id", int64(false, "type queue: the pool")),
                ],
                    &["type"],
                )
            };
        let fallbacks = || ["next_rule", "default"];
        let assignment_fields =
            || {
                vec![
                prop("name", text(false, true, 100, "The rule's name")),
                prop("active", boolean("Inactive rules are skipped; default true")),
                prop(
                    "conditions",
                    conditions().description(Some(
                        "Which new leads the rule takes; none: every lead",
                    )),
                ),
                prop("target", target()),
                prop(
                    "fallback",
                    codes(
                        fallbacks(),
                        false,
                        "When no member may take the lead (away, inactive, at a cap): next_rule \
                         tries the rules after it (default), default goes to the settings' \
                         fallback",
                    ),
                ),
            ]
            };
        let mut shown = assignment_fields();
        shown.splice(
            0..0,
            [
                prop("id", int64(false, "Unique id")),
                prop("position", int64(false, "Rules are tried in this order")),
            ],
        );
        shown.extend([
            prop("created_at", date_time(false, "When it was created")),
            prop("updated_at", date_time(false, "When it last changed")),
        ]);
        self.schema(
            "AssignmentRule",
            response_object("An assignment rule", shown),
        );
        self.schema(
            "AssignmentRuleInput",
            request_object(
                "A new assignment rule, tried after the others",
                assignment_fields(),
                &["name", "target"],
            ),
        );
        self.schema(
            "AssignmentRulePatch",
            request_object(
                "Changes to an assignment rule: the fields given replace the stored ones and \
                 the whole rule is checked again",
                assignment_fields(),
                &[],
            ),
        );
        self.schema(
            "AssignmentRuleList",
            items(
                "Every assignment rule, in the order they are tried",
                "AssignmentRule",
            ),
        );
        self.schema(
            "AssignmentRuleOrder",
            request_object(
                "The new order",
                vec![prop(
                    "rule_ids",
                    array(int64(false, "A rule id"), "Every rule's id, once, in order"),
                )],
                &["rule_ids"],
            ),
        );
        let fallback_fields = || {
            vec![
                prop(
                    "fallback_user_id",
                    int64(
                        true,
                        "The user who takes leads a matching rule could not place",
                    ),
                ),
                prop(
                    "fallback_pool_id",
                    int64(true, "Or the pool they go to (at most one of the two)"),
                ),
            ]
        };
        self.schema(
            "AssignmentSettings",
            response_object("The fallback of assignment rules", fallback_fields()),
        );
        self.schema(
            "AssignmentSettingsPatch",
            request_object(
                "Changes to the fallback; null clears",
                fallback_fields(),
                &[],
            ),
        );
        self.schema(
            "LeadAssignment",
            request_object(
                "The lead's new owner",
                vec![prop(
                    "owner_id",
                    int64(false, "An active user within your data scope"),
                )],
                &["owner_id"],
            ),
        );
        self.schema(
            "LeadBulkAssignment",
            request_object(
                "Leads to give to one user, all or none",
                vec![
                    prop(
                        "lead_ids",
                        array(int64(false, "A lead id"), "1 to 1000 lead ids")
                            .min_items(Some(1))
                            .max_items(Some(1000)),
                    ),
                    prop(
                        "owner_id",
                        int64(false, "An active user within your data scope"),
                    ),
                ],
                &["lead_ids", "owner_id"],
            ),
        );
        self.schema(
            "AssignedLeads",
            items("The leads as they are now, in order", "Lead"),
        );
        let availability_fields = || {
            vec![
                prop(
                    "away_until",
                    date_time(true, "Rules skip the user until then (leave, holiday)"),
                ),
                prop(
                    "max_open_leads",
                    int64(
                        true,
                        "Rules skip the user while they hold this many open leads",
                    )
                    .minimum(Some(0))
                    .maximum(Some(1000000)),
                ),
                prop(
                    "daily_cap",
                    int64(
                        true,
                        "The most leads rules give the user in a day (China time)",
                    )
                    .minimum(Some(0))
                    .maximum(Some(1000000)),
                ),
            ]
        };
        let mut shown = availability_fields();
        shown.insert(0, prop("user_id", int64(false, "The user")));
        shown.extend([
            prop("away", boolean("Away now")),
            prop("open_leads", int64(false, "Open leads they hold")),
            prop(
                "assigned_today",
                int64(false, "Leads rules gave them today"),
            ),
        ]);
        self.schema(
            "Availability",
            response_object("Whether assignment rules may give a user leads", shown),
        );
        self.schema(
            "AvailabilityPatch",
            request_object(
                "Changes to a user's availability; null clears; caps from 0",
                availability_fields(),
                &[],
            ),
        );

        let tag = "assignment";
        self.add(
            HttpMethod::Get,
            "/api/v1/assignment/rules",
            operation("listAssignmentRules", tag, "List assignment rules")
                .description(Some("Admins only."))
                .response(
                    "200",
                    json_response("Every rule, in order", "AssignmentRuleList"),
                ),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/assignment/rules",
            operation("createAssignmentRule", tag, "Add an assignment rule")
                .description(Some(
                    "Admins only. Rules run in order on every new lead whose owner the request \
                     did not give (API, web form, import, UI); the first matching rule that can \
                     place the lead wins. Unknown users, teams and pools, a team without active \
                     members and an empty member list are a 422.",
                ))
                .request_body(Some(json_body("AssignmentRuleInput")))
                .response("201", json_response("Created", "AssignmentRule")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/assignment/rules/reorder",
            operation(
                "reorderAssignmentRules",
                tag,
                "Put the assignment rules in a new order",
            )
            .description(Some("Admins only."))
            .request_body(Some(json_body("AssignmentRuleOrder")))
            .response(
                "200",
                json_response("Every rule, in the new order", "AssignmentRuleList"),
            ),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/assignment/rules/{id}",
            operation("getAssignmentRule", tag, "Get an assignment rule")
                .description(Some("Admins only."))
                .response("200", json_response("The rule", "AssignmentRule")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/assignment/rules/{id}",
            operation("updateAssignmentRule", tag, "Change an assignment rule")
                .description(Some(
                    "Admins only. Members keep their round-robin counts; a new member starts \
                     level with the member furthest behind.",
                ))
                .request_body(Some(json_body("AssignmentRulePatch")))
                .response("200", json_response("Changed", "AssignmentRule")),
            &[Failure::Invalid],
        );
        self.schema(
            "AssignmentTestInput",
            request_object(
                "The lead to test the rules on: a stored lead, or a few fields of one",
                vec![
                    prop("lead_id", int64(false, "A lead you may see")),
                    prop(
                        "lead",
                        any("Fields as a lead has them (`source`, `province`, `custom`: {...})"),
                    ),
                ],
                &[],
            ),
        );
        self.schema(
            "AssignmentRuleTried",
            response_object(
                "A matching rule, in the order tried",
                vec![
                    prop("id", int64(false, "The rule")),
                    prop("name", string(false, "Its name")),
                    prop("placed", boolean("Whether it would take the lead")),
                ],
            ),
        );
        self.schema(
            "AssignmentVerdict",
            response_object(
                "What the active rules would do with the lead now",
                vec![
                    prop(
                        "tried",
                        array(
                            Ref::from_schema_name("AssignmentRuleTried"),
                            "The matching rules tried",
                        ),
                    ),
                    prop(
                        "rule_id",
                        int64(true, "The rule that would take it; null without one"),
                    ),
                    prop(
                        "by_fallback",
                        boolean("Whether the settings' fallback would take it"),
                    ),
                    prop("owner_id", int64(true, "Who would own it")),
                    prop("owner_name", string(true, "Their name")),
                    prop("pool_id", int64(true, "The pool it would go to")),
                    prop("pool_name", string(true, "Its name")),
                ],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/assignment/test",
            operation("testAssignment", tag, "Which rule would take a lead")
                .description(Some(
                    "Admins only. Runs the active rules on a stored lead (`lead_id`) or on a few \
                     fields (`lead`) as a create would, without assigning anything: round-robin \
                     and daily counts stay as they are and nothing is written.",
                ))
                .request_body(Some(json_body("AssignmentTestInput")))
                .response("200", json_response("The verdict", "AssignmentVerdict")),
            &[Failure::NotFound, Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/assignment/rules/{id}",
            operation("deleteAssignmentRule", tag, "Delete an assignment rule")
                .description(Some("Admins only."))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/assignment/settings",
            operation(
                "getAssignmentSettings",
                tag,
                "The fallback of assignment rules",
            )
            .response("200", json_response("The settings", "AssignmentSettings")),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/assignment/settings",
            operation("updateAssignmentSettings", tag, "Change the fallback")
                .description(Some("Admins only."))
                .request_body(Some(json_body("AssignmentSettingsPatch")))
                .response("200", json_response("The settings", "AssignmentSettings")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/leads/assign",
            operation("assignLeads", tag, "Give leads to a user")
                .description(Some(
                    "All or none, in one transaction: each lead must be within your data scope \
                     (else 404) and the new owner too (else 403). Each change goes in the \
                     history, `lead.assigned` is raised, the timers restart, and the new owner \
                     is notified once.",
                ))
                .request_body(Some(json_body("LeadBulkAssignment")))
                .response("200", json_response("The leads", "AssignedLeads")),
            &[Failure::NotFound, Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/leads/{id}/assign",
            operation("assignLead", tag, "Give a lead to a user")
                .description(Some(
                    "The change goes in the history, `lead.assigned` is raised, the timers \
                     restart, and the new owner is notified.",
                ))
                .request_body(Some(json_body("LeadAssignment")))
                .response("200", json_response("The lead", "Lead")),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/users/{id}/availability",
            operation(
                "getUserAvailability",
                tag,
                "A user's availability for assignment",
            )
            .description(Some(
                "Your own, or, for admins and managers, that of users in your data scope.",
            ))
            .response("200", json_response("The availability", "Availability")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/users/{id}/availability",
            operation("updateUserAvailability", tag, "Set away time and caps")
                .description(Some(
                    "Your own, or, for admins and managers, that of users in your data scope.",
                ))
                .request_body(Some(json_body("AvailabilityPatch")))
                .response("200", json_response("The availability", "Availability")),
            &[Failure::Invalid],
        );
    }

    fn errors(&mut self) {
        self.schema(
            "Error",
            response_object(
                "The body of every error response",
                vec![prop(
                    "error",
                    response_object(
                        "What went wrong",
                        vec![
                            prop(
                                "code",
                                string(false, "Stable, for programs: `invalid`, `not_found`, …"),
                            ),
                            prop("message", string(false, "For people: what to do about it")),
                            prop(
                                "field",
                                string(true, "The field or parameter at fault, for `invalid`"),
                            ),
                        ],
                    ),
                )],
            ),
        );
    }
}

const LOGIN: &str = "/api/v1/auth/login";

/// The error responses, each a component response with the shared `Error` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    MediaType,
    Invalid,
    TooManyLogins,
}

impl Failure {
    const ALL: [Failure; 9] = [
        Failure::BadRequest,
        Failure::Unauthorized,
        Failure::Forbidden,
        Failure::NotFound,
        Failure::Conflict,
        Failure::TooLarge,
        Failure::MediaType,
        Failure::Invalid,
        Failure::TooManyLogins,
    ];

    fn status(self) -> &'static str {
        match self {
            Failure::BadRequest => "400",
            Failure::Unauthorized => "401",
            Failure::Forbidden => "403",
            Failure::NotFound => "404",
            Failure::Conflict => "409",
            Failure::TooLarge => "413",
            Failure::MediaType => "415",
            Failure::Invalid => "422",
            Failure::TooManyLogins => "429",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Failure::BadRequest => "BadRequest",
            Failure::Unauthorized => "Unauthorized",
            Failure::Forbidden => "Forbidden",
            Failure::NotFound => "NotFound",
            Failure::Conflict => "Conflict",
            Failure::TooLarge => "PayloadTooLarge",
            Failure::MediaType => "UnsupportedMediaType",
            Failure::Invalid => "Invalid",
            Failure::TooManyLogins => "TooManyRequests",
        }
    }

    fn response(self) -> ResponseBuilder {
        let description = match self {
            Failure::BadRequest => {
                "`bad_request`: malformed JSON, an unreadable query string or a bad id in the \
                 path"
                    .to_owned()
            }
            Failure::Unauthorized => {
                "`unauthorized`: no valid token or session, or wrong credentials".to_owned()
            }
            Failure::Forbidden => "`forbidden`: the role or data scope does not allow it, or a \
                                   write authenticated by the session cookie lacks \
                                   `X-CSRF-Token`"
                .to_owned(),
            Failure::NotFound => {
                "`not_found`: no such record, or outside your data scope".to_owned()
            }
            Failure::Conflict => "`conflict`: clashes with the current state, such as a name \
                                  that is taken or a converted lead, which is read-only"
                .to_owned(),
            Failure::TooLarge => format!(
                "`payload_too_large`: the body is larger than {} KiB",
                BODY_LIMIT / 1024
            ),
            Failure::MediaType => {
                "`unsupported_media_type`: the body is not sent as `application/json`".to_owned()
            }
            Failure::Invalid => "`invalid`: a field or parameter is invalid; `error.field` names \
                                 it and `error.message` says what is accepted"
                .to_owned(),
            Failure::TooManyLogins => {
                "`too_many_requests`: too many failed sign-ins; wait `Retry-After` seconds"
                    .to_owned()
            }
        };
        let response = json_response(&description, "Error");
        if self == Failure::TooManyLogins {
            response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until sign-in may be tried again"))
                    .build(),
            )
        } else {
            response
        }
    }
}

fn tags() -> Vec<Tag> {
    let tag = |name: &str, description: &str| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    };
    let mut tags: Vec<Tag> = TABLES
        .iter()
        .map(|table| {
            let description = match table.record_type {
                RecordType::Lead => {
                    "Leads (线索): people or companies that showed interest, not yet qualified"
                }
                RecordType::Account => "Accounts (客户): customer companies, or persons",
                RecordType::Contact => "Contacts (联系人): the people at accounts",
                RecordType::Opportunity => {
                    "Opportunities (销售机会): deals moving through the pipeline stages"
                }
            };
            tag(table.name, description)
        })
        .collect();
    tags.extend([
        tag("activities", "Follow-ups (跟进记录) logged on any record"),
        tag("users", "Users and their roles"),
        tag(
            "teams",
            "The org tree (组织架构): headquarters, regions, branches, teams",
        ),
        tag("tokens", "API tokens"),
        tag("custom-fields", "Admin-defined fields on records"),
        tag("exports", "The audit of who exported which records"),
        tag(
            "audit",
            "The audit log of settings changes and the login history (admins)",
        ),
        tag(
            "notifications",
            "The caller's own notifications (通知): new leads, due follow-ups, SLA and recycle \
             warnings",
        ),
        tag(
            "privacy",
            "A person's data on request (PIPL, GDPR): export everything held about them, erase it",
        ),
        tag(
            "webhooks",
            "Outbound webhooks: subscriptions to events, signed deliveries, the delivery log",
        ),
        tag(
            "robots",
            "Group robots of WeCom, DingTalk and Feishu: chosen events as chat messages",
        ),
        tag(
            "choices",
            "The lists of statuses, sources, outcomes and reasons, with Chinese and English labels",
        ),
        tag(
            "imports",
            "Imports of leads, accounts, contacts, opportunities and activities from CSV and XLSX files: upload, preview, start, progress, error report",
        ),
        tag(
            "qualification",
            "Qualification checklists (鉴定) and the items met on each lead",
        ),
        tag(
            "pipeline",
            "Pipeline stages (阶段), the weighted forecast and the kanban board",
        ),
        tag(
            "pools",
            "The public pool (公海): unowned leads that members claim, and the rules returning \
             neglected leads to it",
        ),
        tag(
            "follow-ups",
            "Follow-ups on time: due and overdue follow-ups, working hours, SLA rules",
        ),
        tag(
            "attachments",
            "Files kept with records: recordings, documents",
        ),
        tag(
            "scoring",
            "Lead scoring (评分): rules, tier thresholds, breakdowns, behaviour events",
        ),
        tag(
            "assignment",
            "Assignment rules (分配规则), manual and bulk assignment, availability",
        ),
        tag(
            "forms",
            "Web forms: their settings, the HTML to embed them, their submissions, and the \
             public endpoint visitors post to",
        ),
        tag(
            "reports",
            "Analytics (分析报表): leads by group, the funnel, speed to lead, activity per rep, \
             the sales cycle, cost per lead and acquisition cost, KPI targets",
        ),
        tag("auth", "Web sessions"),
        tag("operations", "Health checks and this document"),
    ]);
    tags
}

/// A record as the API serves it: every field, always present.
fn record_schema(table: &Table) -> ObjectBuilder {
    table.fields.iter().fold(
        ObjectBuilder::new().description(Some(format!(
            "{} as the API serves it",
            capitalized(&with_article(&table.schema.to_lowercase()))
        ))),
        |object, field| {
            let object = object
                .property(field.name, field_schema(table, field, false))
                .required(field.name);
            if field.kind != Kind::Phone {
                return object;
            }
            let verified = xiansuo_app::records::verified_name(field.name);
            object
                .property(
                    &verified,
                    scalar(Type::Boolean, true, "Whether the phone was read as a number (it has an E.164 form); false for a phone an import kept as entered because it could not read it; null without a phone"),
                )
                .required(&verified)
        },
    )
}

/// The writable fields of a record type: on create (`creating`) with its required fields, on
/// change with none required.
fn input_schema(table: &Table, creating: bool) -> ObjectBuilder {
    let description = if creating {
        format!("A new {}", table.schema.to_lowercase())
    } else {
        format!(
            "Changes to {}: only the fields given change; null clears",
            with_article(&table.schema.to_lowercase())
        )
    };
    let writable: Vec<&Field> = table.fields.iter().filter(|f| f.writable()).collect();
    let required: Vec<&str> = writable
        .iter()
        .filter(|f| creating && f.required)
        .map(|f| f.name)
        .collect();
    request_object(
        &description,
        writable
            .iter()
            .map(|f| (f.name, field_schema(table, f, true)))
            .collect(),
        &required,
    )
}

/// Whether a field can be null, in a record as served or in a request body.
fn nullable(table: &Table, field: &Field, input: bool) -> bool {
    match field.kind {
        Kind::Id => false,
        // Null is accepted and stored as an empty list or object, so it is never served.
        Kind::Tags | Kind::Custom => input,
        // Records in the public pool have no owner, but a request cannot give one to nobody.
        Kind::Owner => !input,
        // The record engine fills in the channel when no source is given.
        Kind::Code(CodeSet::Source) => false,
        // Stored as -1 before any model (so it sorts and pages), served as null.
        Kind::Probability => !input,
        // Sortable columns are NOT NULL (the keyset cursor relies on it), and so are required
        // fields and fields with a default.
        _ => !(field.required || field.sort || table.defaults.iter().any(|d| d.0 == field.name)),
    }
}

fn field_schema(table: &Table, field: &Field, input: bool) -> RefOr<Schema> {
    let null = nullable(table, field, input);
    let doc = field.doc;
    match field.kind {
        Kind::Id | Kind::Owner | Kind::UserRef | Kind::Ref(_) | Kind::Link(_) | Kind::PoolRef => {
            id(null, doc).into()
        }
        Kind::Int { min, max } => scalar(Type::Integer, null, doc)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(Some(max))
            .into(),
        Kind::Text(max) => text(null, input && field.required, max, doc).into(),
        Kind::Phone | Kind::Email | Kind::Derived => string(null, doc).into(),
        Kind::Code(set) => code_schema(set, null, doc).into(),
        Kind::Tags => ArrayBuilder::new()
            .schema_type(typed(Type::Array, null))
            .items(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(doc))
            .into(),
        Kind::Custom => scalar(Type::Object, null, doc)
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into(),
        Kind::Money => scalar(Type::Number, null, doc).minimum(Some(0)).into(),
        Kind::Date => date(null, doc).into(),
        Kind::Timestamp => date_time(null, doc).into(),
        Kind::Probability => scalar(Type::Number, null, doc)
            .minimum(Some(0))
            .maximum(Some(1))
            .into(),
    }
}

/// The query parameters of a record list: paging, sorting, search and the common filters, then
/// one filter per filterable field.
fn list_parameters(table: &Table) -> Vec<Parameter> {
    let sorts: Vec<String> = table
        .fields
        .iter()
        .filter(|f| f.sort)
        .flat_map(|f| [f.name.to_owned(), format!("-{}", f.name)])
        .collect();
    let instant = |name: &str, doc: &str| {
        query(
            name,
            &format!("{doc}: a date (YYYY-MM-DD, a whole UTC day, inclusive) or an RFC 3339 time"),
            date_or_time("Date or time"),
        )
    };
    let mut params = vec![
        query(
            "limit",
            "How many records per page",
            scalar(Type::Integer, false, "Page size")
                .minimum(Some(1))
                .maximum(Some(500))
                .default(Some(json!(50))),
        ),
        query(
            "cursor",
            "The `next_cursor` of the previous page",
            record_cursor(),
        ),
        query(
            "sort",
            "The field to sort by; a leading `-` sorts descending. Ties are broken by id",
            codes(sorts.iter().map(String::as_str), false, "Sort order")
                .default(Some(json!("-created_at"))),
        ),
        query(
            "q",
            &search_description(table),
            string(false, "Search text"),
        ),
        comma_list(
            "team_id",
            "Only records owned by members of these teams or of any team below them",
            id(false, "A team id"),
        ),
        instant("created_from", "Created at or after"),
        instant("created_to", "Created at or before"),
        instant("updated_from", "Changed at or after"),
        instant("updated_to", "Changed at or before"),
        query(
            "deleted",
            "`true` lists deleted records instead of live ones",
            boolean("Deleted").default(Some(json!(false))),
        ),
        query(
            "count",
            "`true` adds `total`, how many records match on all pages",
            boolean("Count").default(Some(json!(false))),
        ),
    ];
    if table.record_type == RecordType::Opportunity {
        params.push(close_month_parameter());
    }
    if table.record_type == RecordType::Lead {
        params.push(query(
            "in_pool",
            "`true`: only leads waiting in a public pool (公海); `false`: only leads that are not",
            boolean("In a pool"),
        ));
        params.push(instant(
            "follow_up_before",
            "Only leads whose next planned follow-up (set by their latest follow-up) is before \
             this instant; with the current time, the overdue ones",
        ));
    }
    params.extend(
        table
            .fields
            .iter()
            .filter(|f| f.filter)
            .map(filter_parameter),
    );
    params.into_iter().map(ParameterBuilder::build).collect()
}

/// `close_month`: deals expected to close in one month.
/// One delivery of a delivery log (webhooks', robots') with every attempt; what differs
/// between the logs is the caller's.
fn delivery_schema(
    description: &str,
    id_doc: &str,
    owner: (&str, &str),
    event_doc: &str,
    request_doc: &str,
) -> Schema {
    response_object(
        description,
        vec![
            prop("id", int64(false, id_doc)),
            prop(owner.0, int64(false, owner.1)),
            prop("event", string(false, event_doc)),
            prop(
                "event_id",
                string(false, "The event's id, the same in every delivery of it"),
            ),
            prop(
                "state",
                codes(
                    ["pending", "succeeded", "failed"],
                    false,
                    "`pending`: an attempt is queued; `failed`: every attempt failed",
                ),
            ),
            prop("attempts", int64(false, "Attempts made")),
            prop(
                "next_attempt_at",
                date_time(true, "When the next attempt is due"),
            ),
            prop("status_code", int64(true, "The last attempt's HTTP status")),
            prop(
                "response_body",
                string(true, "The start of the last answer"),
            ),
            prop("error", string(true, "The last attempt's error")),
            prop("duration_ms", int64(true, "The last attempt's duration")),
            prop("created_at", date_time(false, "When the event was raised")),
            prop("delivered_at", date_time(true, "When the receiver took it")),
            prop("request_body", any(request_doc)),
            prop(
                "log",
                array(
                    Ref::from_schema_name("WebhookAttempt"),
                    "Every attempt, in order",
                ),
            ),
        ],
    )
}

/// A page of a delivery log whose deliveries are the schema `item`.
fn delivery_list_schema(item: &str) -> Schema {
    response_object(
        "One page of deliveries, newest first",
        vec![
            prop(
                "items",
                array(Ref::from_schema_name(item), "The deliveries"),
            ),
            prop(
                "next_cursor",
                string(
                    true,
                    "Pass as `cursor` for the next page; null on the last page",
                ),
            ),
        ],
    )
}

fn close_month_parameter() -> ParameterBuilder {
    query(
        "close_month",
        "Only deals whose `expected_close_date` falls in this month (YYYY-MM)",
        month("Month"),
    )
}

/// The list's filters without its paging, and the file format.
/// An export's answer: the file as an attachment.
fn export_file() -> ResponseBuilder {
    ResponseBuilder::new()
        .description("The file, as an attachment named after the records and the day")
        .content("text/csv", Content::new(Some(string(false, "CSV"))))
        .content(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Content::new(Some(
                string(false, "XLSX").format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
            )),
        )
}

/// An export's `?format=`.
fn format_parameter() -> Parameter {
    query(
        "format",
        "The file format",
        codes(["csv", "xlsx"], false, "File format").default(Some(json!("csv"))),
    )
    .build()
}

fn export_parameters(table: &Table) -> Vec<Parameter> {
    let mut params = vec![format_parameter()];
    params.extend(
        list_parameters(table)
            .into_iter()
            .filter(|p| p.name != "limit" && p.name != "cursor"),
    );
    params
}

/// Describes `?q=` from the columns it searches, in the words a caller thinks in.
fn search_description(table: &Table) -> String {
    let ways: Vec<String> = table
        .search
        .iter()
        .map(|column| match *column {
            "name" => "any part of the name (a 2-character Chinese name such as 王芳 works, and \
                       finds 王芳芳 too)"
                .to_owned(),
            "phone_normalized" => {
                "3 or more digits of the phone number, in any format (`138 0013`, `+86 138…`)"
                    .to_owned()
            }
            "email_normalized" => "any part of the email address".to_owned(),
            other => format!("any part of the {other}"),
        })
        .collect();
    format!(
        "Text search, case-insensitive. Matches {}",
        ways.join("; or ")
    )
}

/// The list parameter for a filterable field, spelled the way the record engine parses it.
fn filter_parameter(field: &Field) -> ParameterBuilder {
    let doc = field.doc;
    match field.kind {
        Kind::Code(set) => comma_list(field.name, doc, code_schema(set, false, "A code")),
        Kind::Owner | Kind::Ref(_) | Kind::Id => comma_list(field.name, doc, id(false, "An id")),
        Kind::Tags => comma_list(field.name, doc, string(false, "A tag").min_length(Some(1))),
        Kind::Int { .. } => query(
            field.name,
            &format!(
                "{doc}. `N` exactly, `N..` at least, `..M` at most, `N..M` between (inclusive); \
                 empty for any"
            ),
            string(false, "A number or a range").pattern(Some(
                r"^(|-?[0-9]{1,18}|-?[0-9]{1,18}\.\.|\.\.-?[0-9]{1,18}|-?[0-9]{1,18}\.\.-?[0-9]{1,18})$",
            )),
        ),
        Kind::Probability => query(
            field.name,
            &format!(
                "{doc}. `P` exactly, `P..` at least, `..Q` at most, `P..Q` between (inclusive), \
                 P and Q from 0 to 1; empty for any"
            ),
            string(false, "A probability or a range").pattern(Some(
                r"^(|P|P\.\.|\.\.P|P\.\.P)$".replace('P', r"(0(\.[0-9]{1,6})?|1(\.0{1,6})?)"),
            )),
        ),
        _ => query(
            field.name,
            &format!("{doc}. Exact match"),
            string(false, "The value"),
        ),
    }
}

fn query(name: &str, doc: &str, schema: impl Into<RefOr<Schema>>) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(doc))
        .schema(Some(schema))
}

/// A query parameter holding a comma-separated list, which matches any of its values.
fn comma_list(name: &str, doc: &str, item: impl Into<ArrayItems>) -> ParameterBuilder {
    // `style: form` with `explode: false` is how OpenAPI spells `?name=a,b,c`.
    query(
        name,
        &format!("{doc}. Comma-separated; matches any of the values"),
        // An empty list (`?name=`) is refused: leave the parameter out to match everything.
        ArrayBuilder::new().items(item).min_items(Some(1)),
    )
    .style(Some(ParameterStyle::Form))
    .explode(Some(false))
}

fn operation(id: &str, tag: &str, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
}

fn json_body(schema: &str) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(schema))),
        )
        .build()
}

fn json_response(description: &str, schema: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name(schema))),
    )
}

/// An object the API serves: every property is always present, possibly null.
/// A response object of which only `required` are always present.
fn some_required(
    description: &str,
    required: &[&str],
    properties: Vec<(&str, RefOr<Schema>)>,
) -> Schema {
    properties
        .into_iter()
        .fold(
            ObjectBuilder::new().description(Some(description)),
            |object, (name, schema)| {
                let object = object.property(name, schema);
                if required.contains(&name) {
                    object.required(name)
                } else {
                    object
                }
            },
        )
        .into()
}

fn response_object(description: &str, properties: Vec<(&str, RefOr<Schema>)>) -> Schema {
    properties
        .into_iter()
        .fold(
            ObjectBuilder::new().description(Some(description)),
            |object, (name, schema)| object.property(name, schema).required(name),
        )
        .into()
}

/// A request body: the API refuses properties it does not know, so the schema does too.
fn request_object(
    description: &str,
    properties: Vec<(&str, RefOr<Schema>)>,
    required: &[&str],
) -> ObjectBuilder {
    let object = properties.into_iter().fold(
        ObjectBuilder::new()
            .description(Some(description))
            .additional_properties(Some(AdditionalProperties::FreeForm(false))),
        |object, (name, schema)| object.property(name, schema),
    );
    required
        .iter()
        .fold(object, |object, name| object.required(*name))
}

/// `{"items": [...]}`: a whole list, not paginated.
fn items(description: &str, item: &str) -> Schema {
    response_object(
        description,
        vec![prop(
            "items",
            array(Ref::from_schema_name(item), description),
        )],
    )
}

/// The cursor of a list paged by id: the id the previous page ended at.
fn id_cursor() -> ObjectBuilder {
    string(false, "A cursor").pattern(Some("^[0-9]{1,18}$"))
}

/// The cursor of a record list: the sort value and id the previous page ended at, as URL-safe
/// base64 of a JSON array; only a cursor the server handed out reads back.
fn record_cursor() -> ObjectBuilder {
    string(false, "Opaque cursor").pattern(Some("^[A-Za-z0-9_-]+$"))
}

/// A key as `xiansuo_core::custom_field::parse_key` takes it: a-z first, then a-z, 0-9 or `_`.
fn field_key(doc: &str) -> ObjectBuilder {
    string(false, doc).pattern(Some("^[a-z][a-z0-9_]{0,39}$"))
}

/// A month, `YYYY-MM`.
fn month(doc: &str) -> ObjectBuilder {
    string(false, doc).pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$"))
}

/// A date (`YYYY-MM-DD`) or an RFC 3339 time.
fn date_or_time(doc: &str) -> RefOr<Schema> {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .item(date(false, "A date"))
        .item(date_time(false, "A time"))
        .description(Some(doc))
        .into()
}

/// A date or time as [`date_or_time`], or empty for none.
fn date_or_time_or_empty(doc: &str) -> RefOr<Schema> {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .item(date(false, "A date"))
        .item(date_time(false, "A time"))
        .item(string(false, "None").max_length(Some(0)))
        .description(Some(doc))
        .into()
}

/// A date, an RFC 3339 time, or nothing, as a list's range filter in a query takes it; for
/// the parameters of handlers that document themselves (`inline(Option<DateOrTimeOrEmpty>)`).
pub(crate) struct DateOrTimeOrEmpty;

impl utoipa::PartialSchema for DateOrTimeOrEmpty {
    fn schema() -> RefOr<Schema> {
        date_or_time_or_empty("Date or time")
    }
}

impl utoipa::ToSchema for DateOrTimeOrEmpty {}

/// The bytes of a file as a response sends them, for the handlers that document themselves
/// (`body = inline(FileContent)`).
pub(crate) struct FileContent;

impl utoipa::PartialSchema for FileContent {
    fn schema() -> RefOr<Schema> {
        string(false, "The file")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for FileContent {}

/// A calendar date `YYYY-MM-DD` in the years the server takes (1800 to 2999).
fn date(nullable: bool, doc: &str) -> ObjectBuilder {
    string(nullable, doc)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(YEARS))
}

fn int64(nullable: bool, doc: &str) -> ObjectBuilder {
    scalar(Type::Integer, nullable, doc).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

fn boolean(doc: &str) -> ObjectBuilder {
    scalar(Type::Boolean, false, doc)
}

/// A flag of a change: `null`, like leaving it out, keeps the stored value.
fn optional_boolean(doc: &str) -> ObjectBuilder {
    scalar(
        Type::Boolean,
        true,
        &format!("{doc}; null keeps it as it is"),
    )
}

fn any(doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some(doc))
}

/// One property of an object schema. Ids are positive, so an integer `id` or `…_id` (and the
/// items of an `…_ids` list) gets `minimum: 1` unless its schema already says otherwise.
fn prop(name: &str, schema: impl Into<RefOr<Schema>>) -> (&str, RefOr<Schema>) {
    let mut schema = schema.into();
    if name == "id" || name.ends_with("_id") {
        positive_id(&mut schema);
    } else if name.ends_with("_ids") {
        if let RefOr::T(Schema::Array(list)) = &mut schema {
            if let ArrayItems::RefOrSchema(item) = &mut list.items {
                positive_id(item);
            }
        }
    }
    (name, schema)
}

/// Gives an integer schema without a lower bound the bound of an id, 1.
fn positive_id(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::Object(object)) = schema {
        let integer = match &object.schema_type {
            SchemaType::Type(t) => *t == Type::Integer,
            SchemaType::Array(types) => types.contains(&Type::Integer),
            SchemaType::AnyValue => false,
        };
        if integer && object.minimum.is_none() {
            object.minimum = Some(1.into());
        }
    }
}

/// An id: a positive whole number.
fn id(nullable: bool, doc: &str) -> ObjectBuilder {
    int64(nullable, doc).minimum(Some(1))
}

fn array(item: impl Into<ArrayItems>, doc: &str) -> ArrayBuilder {
    ArrayBuilder::new().items(item).description(Some(doc))
}

/// A code of `set`: one of its codes, or for the open set of sources, the shape of one.
fn code_schema(set: CodeSet, nullable: bool, doc: &str) -> ObjectBuilder {
    match set {
        // Admins add their own sources, so the built-in ones are only examples.
        CodeSet::Source => string(nullable, doc)
            .pattern(Some("^[a-z0-9_]{1,40}$"))
            .examples(BUILTIN_SOURCES.iter().map(|s| s.0)),
        // Admins edit the stages (GET /api/v1/pipeline/stages), so the defaults are examples.
        CodeSet::Stage => string(nullable, doc)
            .pattern(Some("^[a-z][a-z0-9_]{0,39}$"))
            .examples(set.codes()),
        _ => codes(set.codes().iter().map(String::as_str), nullable, doc),
    }
}

/// The kind of a notification.
fn notification_kind() -> ObjectBuilder {
    codes(
        xiansuo_app::channels::notifications::Kind::ALL.map(|k| k.code()),
        false,
        "What happened: lead.assigned, followup.due, sla.escalated, lead.recycle_warning, …",
    )
}

/// `lead` → `a lead`, `account` → `an account`.
fn with_article(noun: &str) -> String {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {noun}")
    } else {
        format!("a {noun}")
    }
}

/// `leads` → `Leads`, for operation ids such as `listLeads`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use xiansuo_app::records::LIST_PARAMS;

    fn as_json() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    /// The names of the query parameters of `GET path`.
    fn query_parameters(doc: &Value, path: &str) -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("GET {path} has no parameters"))
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_snapshot_in_docs_matches_the_document() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let actual = serde_json::to_string_pretty(&document()).unwrap() + "\n";
        if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
            std::fs::write(path, &actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            expected == actual,
            "docs/openapi.json differs from the document the server serves: rerun with \
             UPDATE_SNAPSHOTS=1 cargo test -p xiansuo-web --lib openapi, then review the diff"
        );
    }

    #[test]
    fn every_table_field_is_in_its_schemas_and_every_filter_is_a_list_parameter() {
        let doc = as_json();
        let schemas = &doc["components"]["schemas"];
        for table in TABLES {
            let record = &schemas[table.schema];
            let input = &schemas[format!("{}Input", table.schema)];
            let patch = &schemas[format!("{}Patch", table.schema)];
            for field in table.fields {
                assert!(
                    record["properties"].get(field.name).is_some(),
                    "{}.{} is missing from its schema",
                    table.schema,
                    field.name
                );
                assert_eq!(
                    input["properties"].get(field.name).is_some(),
                    field.writable(),
                    "{}Input and the writability of {} disagree",
                    table.schema,
                    field.name
                );
                assert_eq!(
                    patch["properties"].get(field.name).is_some(),
                    field.writable(),
                    "{}Patch and the writability of {} disagree",
                    table.schema,
                    field.name
                );
                let required = input["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!(field.name)));
                assert_eq!(required, field.required, "{}Input.required", table.schema);
            }
            assert!(patch.get("required").is_none(), "a patch requires nothing");

            let params = query_parameters(&doc, &format!("/api/v1/{}", table.name));
            let filters = table.fields.iter().filter(|f| f.filter).map(|f| f.name);
            for name in filters.chain(LIST_PARAMS.iter().copied()) {
                assert!(
                    params.iter().any(|p| p == name),
                    "?{name} is not a parameter of GET /api/v1/{}",
                    table.name
                );
            }
        }
    }

    #[test]
    fn every_reference_resolves_and_operation_ids_are_unique() {
        fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        out.push(target);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = as_json();
        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        for target in targets {
            let pointer = target.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }

        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids must be unique");
    }

    #[test]
    fn only_login_and_operations_endpoints_are_public() {
        let doc = as_json();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let public = op["security"] == json!([]);
                let expected = !path.starts_with("/api/v1/") || path == LOGIN;
                assert_eq!(public, expected, "{method} {path}");
            }
        }
    }
}

// A department system's round trip, written against the client generated from
// openapi/openapi.json (openapi-typescript types + openapi-fetch): sign in with client
// credentials, find an assignment of the unit's without a report on a published plan, draft a
// report, attach an evidence file, submit it, read it back and revalidate it (304).
//
// Every step checks the status and the shape of the answer and the program exits non-zero at
// the first one that is not what the document says.
//
//   DUBAN_URL=http://127.0.0.1:8080 DUBAN_CLIENT_ID=ipo-system DUBAN_CLIENT_SECRET=… npm run demo

import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

const baseUrl = need("DUBAN_URL");
const clientId = need("DUBAN_CLIENT_ID");
const clientSecret = need("DUBAN_CLIENT_SECRET");

function need(name: string): string {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

function fail(message: string): never {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

function step(message: string): void {
  console.log(`ok: ${message}`);
}

// The shape check at run time: the fields the document marks required are there, and those it
// does not mark nullable are not null (the types say the same at compile time; this checks
// that the server keeps to it).
const document = JSON.parse(
  readFileSync(new URL("../../openapi/openapi.json", import.meta.url), "utf8"),
) as { components: { schemas: Record<string, JsonSchema> } };
interface JsonSchema {
  $ref?: string;
  allOf?: JsonSchema[];
  required?: string[];
  properties?: Record<string, { type?: string | string[]; oneOf?: unknown[] }>;
}
function flatten(schema: JsonSchema): Required<Pick<JsonSchema, "required" | "properties">> {
  if (schema.$ref) {
    const target = document.components.schemas[schema.$ref.replace("#/components/schemas/", "")];
    check(target, `${schema.$ref} is not in the document`);
    return flatten(target);
  }
  const parts = (schema.allOf ?? []).map(flatten);
  return {
    required: [...(schema.required ?? []), ...parts.flatMap((part) => part.required)],
    properties: Object.assign({}, ...parts.map((part) => part.properties), schema.properties),
  };
}
function conforms(name: keyof Schemas, value: unknown, where: string): void {
  const schema = flatten({ $ref: `#/components/schemas/${name}` });
  check(typeof value === "object" && value !== null, `${where}: not an object`);
  const object = value as Record<string, unknown>;
  for (const field of schema.required) {
    check(field in object, `${where}: ${name}.${field} is missing`);
    const property = schema.properties[field];
    const nullable =
      (Array.isArray(property?.type) && property.type.includes("null")) ||
      property?.oneOf !== undefined;
    check(nullable || object[field] !== null, `${where}: ${name}.${field} is null`);
  }
  for (const field of Object.keys(object)) {
    check(field in schema.properties, `${where}: ${name}.${field} is not in the document`);
  }
}

function expectStatus(response: Response, status: number, what: string): void {
  check(response.status === status, `${what}: expected ${status}, got ${response.status}`);
}

// 1. Sign in: OAuth 2.0 client credentials, form-encoded (openapi-fetch encodes the typed body
// when the content type says so).
const api = createClient<paths>({ baseUrl });
const signIn = await api.POST("/api/v1/auth/token", {
  body: { grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret },
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
});
expectStatus(signIn.response, 200, "POST /auth/token");
check(signIn.data, "POST /auth/token: no body");
conforms("TokenResponse", signIn.data, "POST /auth/token");
check(signIn.data.token_type === "Bearer", "POST /auth/token: token_type is not Bearer");
const granted = (signIn.data.scope ?? "").split(" ");
for (const scope of ["assignments:read", "reports:write", "reports:submit"]) {
  check(granted.includes(scope), `POST /auth/token: ${scope} not granted (got "${signIn.data.scope}")`);
}
step(`signed in as ${clientId} (${signIn.data.scope})`);

api.use({
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${signIn.data.access_token}`);
    return request;
  },
});

// 2. Who am I: the service account of one unit.
const me = await api.GET("/api/v1/me");
expectStatus(me.response, 200, "GET /me");
check(me.data, "GET /me: no body");
conforms("Me", me.data, "GET /me");
check(me.data.role === "service", `GET /me: role is ${me.data.role}, not service`);
const unitId = me.data.unit_id;
check(typeof unitId === "number", "GET /me: a service account without a unit");
step(`the account belongs to unit ${unitId}`);

// 3. The unit's assignments, page by page, until one without a report on a published plan.
const plans = new Map<number, Schemas["PlanView"]>();
async function plan(id: number): Promise<Schemas["PlanView"]> {
  const known = plans.get(id);
  if (known) return known;
  const read = await api.GET("/api/v1/plans/{id}", { params: { path: { id } } });
  expectStatus(read.response, 200, `GET /plans/${id}`);
  check(read.data, `GET /plans/${id}: no body`);
  conforms("PlanView", read.data, `GET /plans/${id}`);
  plans.set(id, read.data);
  return read.data;
}
let chosen: Schemas["AssignmentView"] | undefined;
let cursor: string | undefined;
let seen = 0;
do {
  const page = await api.GET("/api/v1/assignments", {
    params: { query: cursor === undefined ? { limit: 200 } : { limit: 200, cursor } },
  });
  expectStatus(page.response, 200, "GET /assignments");
  check(page.data, "GET /assignments: no body");
  conforms("Page_AssignmentView", page.data, "GET /assignments");
  for (const assignment of page.data.items) {
    conforms("AssignmentView", assignment, `GET /assignments item ${assignment.id}`);
    check(assignment.unit_id === unitId, `GET /assignments: assignment ${assignment.id} is another unit's`);
    seen += 1;
    if (chosen === undefined && assignment.latest_report_id == null) {
      if ((await plan(assignment.plan_id)).state === "published") chosen = assignment;
    }
  }
  cursor = page.data.next_cursor ?? undefined;
} while (cursor !== undefined && chosen === undefined);
check(chosen, `none of the unit's ${seen} assignments is without a report on a published plan`);
step(`assignment ${chosen.id} (plan ${chosen.plan_id}, due ${chosen.due_date}) has no report`);

// 4. A draft report on it.
const created = await api.POST("/api/v1/assignments/{id}/reports", {
  params: { path: { id: chosen.id }, header: { "Idempotency-Key": randomUUID() } },
  body: {
    status: "in_progress",
    narrative: "已完成相关调研，形成修订草案。",
    problems: "",
    next_steps: "征求意见后报送审议。",
    progress: 60,
  },
});
expectStatus(created.response, 201, "POST /assignments/{id}/reports");
check(created.data, "POST /assignments/{id}/reports: no body");
conforms("ReportView", created.data, "POST /assignments/{id}/reports");
const report = created.data;
check(report.assignment_id === chosen.id, "the draft is not on the chosen assignment");
check(report.workflow === "draft", `the new report is ${report.workflow}, not a draft`);
const draftTag = created.response.headers.get("ETag");
check(draftTag, "POST /assignments/{id}/reports: no ETag");
step(`drafted report ${report.id} (ETag ${draftTag})`);

// 5. An evidence file (multipart, part `file`).
const evidence = "%PDF-1.4\n% duban client check\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const uploaded = await api.POST("/api/v1/reports/{id}/attachments", {
  params: { path: { id: report.id } },
  body: { file: evidence },
  bodySerializer(body) {
    const form = new FormData();
    form.append("file", new Blob([body.file], { type: "application/pdf" }), "调研报告.pdf");
    return form;
  },
});
expectStatus(uploaded.response, 201, "POST /reports/{id}/attachments");
check(uploaded.data, "POST /reports/{id}/attachments: no body");
conforms("AttachmentView", uploaded.data, "POST /reports/{id}/attachments");
const sha256 = createHash("sha256").update(evidence).digest("hex");
check(uploaded.data.sha256 === sha256, "the stored file's SHA-256 is not the one sent");
check(uploaded.data.size === Buffer.byteLength(evidence), "the stored file's size is not the one sent");
check(uploaded.data.content_type === "application/pdf", `the file was taken for ${uploaded.data.content_type}`);
check(uploaded.response.headers.get("Location"), "POST /reports/{id}/attachments: no Location");
step(`attached ${uploaded.data.file_name} (${uploaded.data.size} bytes) as attachment ${uploaded.data.id}`);

// An upload changes the report's version: take the ETag as it is now.
const current = await api.GET("/api/v1/reports/{id}", { params: { path: { id: report.id } } });
expectStatus(current.response, 200, "GET /reports/{id}");
const currentTag = current.response.headers.get("ETag");
check(currentTag, "GET /reports/{id}: no ETag");

// 6. Submit it, on the version just read.
const submitted = await api.POST("/api/v1/reports/{id}/submit", {
  params: { path: { id: report.id }, header: { "If-Match": currentTag } },
});
expectStatus(submitted.response, 200, "POST /reports/{id}/submit");
check(submitted.data, "POST /reports/{id}/submit: no body");
conforms("ReportView", submitted.data, "POST /reports/{id}/submit");
check(submitted.data.workflow === "submitted", `the report is ${submitted.data.workflow} after submitting`);
check(submitted.data.submitted_at, "a submitted report without submitted_at");
const submittedTag = submitted.response.headers.get("ETag");
check(submittedTag && submittedTag !== currentTag, "POST /reports/{id}/submit: no new ETag");
step(`submitted report ${report.id} (ETag ${submittedTag})`);

// 7. Read it back, then revalidate: the same version answers 304 without a body.
const readBack = await api.GET("/api/v1/reports/{id}", { params: { path: { id: report.id } } });
expectStatus(readBack.response, 200, "GET /reports/{id}");
check(readBack.data, "GET /reports/{id}: no body");
conforms("ReportView", readBack.data, "GET /reports/{id}");
check(readBack.data.workflow === "submitted", "the report read back is not submitted");
check(readBack.data.narrative === report.narrative, "the narrative read back is not the one sent");
const readTag = readBack.response.headers.get("ETag");
check(readTag === submittedTag, `GET /reports/{id}: ETag ${readTag}, expected ${submittedTag}`);

const revalidated = await api.GET("/api/v1/reports/{id}", {
  params: { path: { id: report.id } },
  headers: { "If-None-Match": readTag },
});
expectStatus(revalidated.response, 304, "GET /reports/{id} with If-None-Match");
check(revalidated.data === undefined && ((revalidated.error as unknown) ?? "") === "", "a 304 with a body");
check(revalidated.response.headers.get("ETag") === readTag, "a 304 without the ETag");
step(`revalidated report ${report.id}: 304 Not Modified`);

console.log("client check passed");

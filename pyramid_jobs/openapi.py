"""The OpenAPI 3 description of the JSON API, built in code with the route prefix applied.

Served at ``{prefix}/openapi.json``; ``tests/test_openapi.py`` keeps it true (every API route is
described, and real answers validate against the schemas).
"""
from __future__ import annotations

from typing import Any

from .options import MAX_DEPTH
from .store import STATES

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "status"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "status": {"type": "integer"}}}}}

PROGRESS = {"type": ["object", "null"], "properties": {
    "step": {"type": "integer"}, "steps": {"type": "integer"}, "step_name": {"type": ["string", "null"]},
    "current": {"type": "number"}, "total": {"type": ["number", "null"]},
    "percent": {"type": "number", "minimum": 0, "maximum": 100}, "message": {"type": ["string", "null"]}}}

JOB = {"type": "object", "required": ["id", "state", "filename", "size", "media_type", "processor", "options",
                                      "created_at", "progress", "error", "artifacts"],
       "properties": {
           "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
           "state": {"enum": list(STATES)},
           "filename": {"type": "string"}, "size": {"type": "integer", "minimum": 0},
           "media_type": {"type": "string"}, "processor": {"type": "string"},
           "options": {"type": "object", "description": "the options given, less those declared secret"},
           "created_at": {"type": "string"}, "started_at": {"type": ["string", "null"]},
           "finished_at": {"type": ["string", "null"]}, "progress": PROGRESS,
           "error": {"type": ["object", "null"], "properties": {"code": {"type": "string"},
                                                                 "message": {"type": "string"}}},
           "attempt": {"type": "integer"}, "cancel_requested": {"type": "boolean"},
           "artifacts": {"type": "array", "items": {"type": "object", "required": ["name", "size", "url"],
                                                     "properties": {"name": {"type": "string"},
                                                                    "size": {"type": "integer"},
                                                                    "media_type": {"type": "string"},
                                                                    "url": {"type": "string"}}}},
           "links": {"type": "object"}}}

PROCESSORS = {"type": "object", "required": ["processors"], "properties": {"processors": {"type": "array", "items": {
    "type": "object", "required": ["name", "extensions", "media_types", "steps", "description", "plugin"],
    "properties": {"name": {"type": "string"}, "extensions": {"type": "array", "items": {"type": "string"}},
                   "media_types": {"type": "array", "items": {"type": "string"}},
                   "steps": {"type": "array", "items": {"type": "string"}},
                   "description": {"type": "string"}, "plugin": {"type": "string"}}}}}}

JOB_LIST = {"type": "object", "required": ["jobs", "next"], "properties": {
    "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}, "next": {"type": ["string", "null"]}}}

HEALTH = {"type": "object", "required": ["ok", "store", "broker"], "properties": {
    "ok": {"type": "boolean"}, "store": {"type": "boolean"}, "broker": {"type": "boolean"},
    "embedded_worker": {"type": ["boolean", "null"]}, "oldest_queued_seconds": {"type": ["number", "null"]}}}


def _json(schema: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _errors(*statuses: int) -> dict:
    return {str(s): _json("Error", "an error, in the API's one error shape") for s in statuses}


JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}


DEFAULT_LIMITS = {"max_upload_size": 100 * 10**6, "max_files_per_request": 20, "max_options_size": 16 * 1024}


def _submit_body(limits: dict) -> dict:
    return {"required": True, "description": (
        f"A multipart/form-data body with only these fields, each at most once (besides the host's CSRF token "
        f"field): at most {limits['max_files_per_request']} `file` parts (this route takes the first; the upload "
        f"page takes each), each at most {limits['max_upload_size']} bytes (413 `file_too_large`); a body cut "
        f"before its closing boundary, an unknown or repeated field, or more file parts answer 400 "
        f"(`bad_request`, `too_many_files`)."),
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"], "additionalProperties": False,
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": f"at most {limits['max_upload_size']} bytes"},
                           "processor": {"type": "string", "maxLength": 200},
                           "options": {"type": "string", "maxLength": limits["max_options_size"],
                                       "description": (
                                           f"a JSON object of at most {limits['max_options_size']} bytes and "
                                           f"{MAX_DEPTH} levels, with only the options the processor declares "
                                           "(else 400 `bad_option`); options declared secret are never "
                                           "returned and are dropped when the job ends")}}}}}}


def build(prefix: str, limits: dict | None = None) -> dict[str, Any]:
    """The document for an API mounted at ``prefix`` (``/jobs`` by default), stating ``limits``
    (``max_upload_size``, ``max_files_per_request``, ``max_options_size``)."""
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    job_path = prefix + "/{id}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "pyramid_jobs", "version": "1", "description": (
            "Upload files, follow their processing as jobs, fetch results and outputs. A request that carries "
            "cookies must come from this site (Origin or Referer) to submit, cancel or delete (else 403 "
            "`cross_site`). Under the standalone app's `jobs.auth`, an anonymous caller gets 401."),
            "x-limits": limits},
        "paths": {
            prefix: {
                "post": {"summary": "Upload a file as a new job", "operationId": "submit",
                         "requestBody": _submit_body(limits),
                         "responses": {"202": _json("Job", "the job, queued"),
                                       **_errors(400, 401, 403, 413, 415, 422, 503, 507)}},
                "get": {"summary": "The caller's jobs, newest first", "operationId": "list",
                        "parameters": [
                            {"name": "state", "in": "query", "schema": JOB["properties"]["state"]},
                            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                        "maximum": 100, "default": 20}},
                            {"name": "before", "in": "query", "schema": {"type": "string",
                                                                         "pattern": "^[0-9a-f]{32}$"}}],
                        "responses": {"200": _json("JobList", "a page of jobs"), **_errors(400, 401, 403, 503)}},
            },
            prefix + "/processors": {"get": {"summary": "The installed processors", "operationId": "processors",
                                             "responses": {"200": _json("Processors", "the processors")}}},
            prefix + "/health": {"get": {"summary": "Whether the store and the broker answer", "operationId": "health",
                                         "responses": {"200": _json("Health", "all is well"),
                                                       "503": _json("Health", "a part does not answer")}}},
            prefix + "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                               "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            job_path: {
                "parameters": [JOB_ID],
                "get": {"summary": "The job", "operationId": "show",
                        "responses": {"200": _json("Job", "the job"), "304": {"description": "not modified"},
                                      **_errors(404, 503)}},
                "delete": {"summary": "Remove the job, its upload and its outputs", "operationId": "delete",
                           "responses": {"204": {"description": "removed"}, **_errors(401, 403, 404, 503)}},
            },
            job_path + "/result": {"parameters": [JOB_ID], "get": {
                "summary": "The processor's result", "operationId": "result",
                "responses": {"200": {"description": "the result (a JSON object, its shape set by the processor)",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              **_errors(404, 409, 503)}}},
            job_path + "/artifacts/{name}": {"parameters": [JOB_ID, {"name": "name", "in": "path", "required": True,
                                                                   "schema": {"type": "string"}}],
                                            "get": {"summary": "An output file", "operationId": "artifact",
                                                    "responses": {"200": {"description": "the file"},
                                                                  **_errors(404, 503)}}},
            job_path + "/cancel": {"parameters": [JOB_ID], "post": {
                "summary": "Cancel a queued or running job", "operationId": "cancel",
                "responses": {"202": _json("Job", "the job"), **_errors(401, 403, 404, 409, 503)}}},
        },
        "components": {"schemas": {"Job": JOB, "JobList": JOB_LIST, "Error": ERROR, "Processors": PROCESSORS,
                                   "Health": HEALTH}},
    }

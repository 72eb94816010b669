import Crypto
import Foundation
import NIOCore

/// The OpenAPI 3.1 contract of every route `buildRouter` serves: what `GET /openapi.json`
/// returns and `GET /docs` renders. It is text compiled into the binary, so a deployed
/// image (which ships only the executable) serves it without resource files.
///
/// Edit the JSON below in place when a route, parameter, body or answer changes.
/// `OpenAPITests` check that it parses, that every `$ref` resolves, that every
/// operation has a unique `operationId` and a 4xx answer, and that its paths and
/// methods are exactly the router's; `scripts/contract-test` checks real answers
/// against it with schemathesis.
enum OpenAPIDocument {
    /// The document as served (UTF-8 JSON).
    static let body = ByteBuffer(string: json)

    /// A strong validator: the SHA-256 of the document, so it changes with every edit.
    static let etag: String = {
        let digest = SHA256.hash(data: Data(json.utf8))
        return "\"" + digest.prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
    }()

    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "GateAPI",
    "version": "1.0.0",
    "summary": "A human-in-the-loop gated job API for AI agents.",
    "description": "Agents submit jobs that take real actions (`gmail.send`, `task.create`); GateAPI authenticates them, checks the workspace's scopes and allowlist, deduplicates retries, holds risky jobs until humans approve, and records every step in an append-only audit log.\n\n**Conventions.** JSON bodies in snake_case; RFC 3339 UTC timestamps. Every error is an RFC 9457 `application/problem+json` body with `request_id`. Every response carries `X-Request-Id`.\n\n**Access.** Every route under `/v1/workspaces/{ws}` is authenticated (401 with `WWW-Authenticate`), then checked for membership in `{ws}` (404 for non-members, the same as for a workspace that does not exist), rate-limited (429 with `Retry-After`; `RateLimit-*` headers on every answer past this point; 503 if Redis is down), then checked for the route's scope (403). Each operation lists its scopes in `x-required-scopes` (any one of them suffices) and in its security requirements. Send an API key as `Authorization: Bearer gk_…` or `X-API-Key: gk_…`, or a JWT as `Authorization: Bearer <JWT>` with the `ws` claim mapping workspace ids to scopes.\n\n**Bodies.** Larger than `MAX_BODY_BYTES` (default 1 MiB): 413. Request bodies are read as JSON whatever their `Content-Type`.\n\n**Paths and methods.** A path not listed here is a 404; a listed path asked with a method not listed for it is a 405 with `Allow`.",
    "license": {
      "name": "Proprietary",
      "identifier": "LicenseRef-Proprietary"
    }
  },
  "servers": [
    {
      "url": "/"
    }
  ],
  "tags": [
    {
      "name": "Jobs",
      "description": "Submit, read, wait for and cancel jobs."
    },
    {
      "name": "Approvals",
      "description": "The reviewers' queue, previews and votes."
    },
    {
      "name": "Policies",
      "description": "The allowlist and how each action is gated."
    },
    {
      "name": "API keys",
      "description": "Create, list, rotate and revoke keys."
    },
    {
      "name": "Tasks",
      "description": "Tasks created by `task.create`."
    },
    {
      "name": "Execution",
      "description": "Dead letters and the Gmail credentials executors use."
    },
    {
      "name": "Webhooks",
      "description": "The workspace's own secrets that sign its webhooks (see the README, \"Learning the outcome\")."
    },
    {
      "name": "Audit",
      "description": "Query, export and verify the tamper-evident audit log."
    },
    {
      "name": "Operations",
      "description": "Health, readiness, metrics and this contract."
    }
  ],
  "paths": {
    "/health": {
      "get": {
        "operationId": "getHealth",
        "tags": [
          "Operations"
        ],
        "summary": "Liveness",
        "description": "Alive as long as the process answers; touches no dependency.",
        "responses": {
          "200": {
            "description": "Alive.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "security": [],
        "parameters": [
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ]
      }
    },
    "/ready": {
      "get": {
        "operationId": "getReadiness",
        "tags": [
          "Operations"
        ],
        "summary": "Readiness",
        "description": "Pings Postgres (`SELECT 1`) and Redis (`PING`) concurrently, 2 s each.",
        "responses": {
          "200": {
            "description": "Both dependencies answer.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Readiness"
                }
              }
            }
          },
          "503": {
            "description": "A dependency is down: `checks` names which (title `Not Ready`).",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "security": [],
        "parameters": [
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ]
      }
    },
    "/metrics": {
      "get": {
        "operationId": "getMetrics",
        "tags": [
          "Operations"
        ],
        "summary": "Prometheus metrics",
        "description": "Prometheus text exposition format: `http_requests_total`, `http_request_duration_seconds`, and the gate, execution and audit metrics (see the README). When the server sets `METRICS_TOKEN`, it answers only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).",
        "responses": {
          "200": {
            "description": "Prometheus text format.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              }
            },
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "description": "`METRICS_TOKEN` is set and the request does not carry it.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "WWW-Authenticate": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "security": [],
        "parameters": [
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ]
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "getOpenAPIDocument",
        "tags": [
          "Operations"
        ],
        "summary": "This document",
        "description": "The OpenAPI 3.1 contract. Send `If-None-Match` with the `ETag` to revalidate.",
        "parameters": [
          {
            "name": "If-None-Match",
            "in": "header",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The document.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "ETag": {
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "A strong validator of the document."
              },
              "Cache-Control": {
                "required": true,
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "openapi",
                    "info",
                    "paths"
                  ]
                }
              }
            }
          },
          "304": {
            "description": "`If-None-Match` matched: the document has not changed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "ETag": {
                "required": true,
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "security": []
      }
    },
    "/docs": {
      "get": {
        "operationId": "getDocs",
        "tags": [
          "Operations"
        ],
        "summary": "API reference page",
        "description": "A self-contained HTML page (no external scripts, styles or fonts) that renders `/openapi.json`.",
        "responses": {
          "200": {
            "description": "The page.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "Content-Security-Policy": {
                "required": true,
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          }
        },
        "security": [],
        "parameters": [
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ]
      }
    },
    "/v1/workspaces/{ws}/jobs": {
      "post": {
        "operationId": "submitJob",
        "tags": [
          "Jobs"
        ],
        "summary": "Submit a job",
        "description": "Validates the params, checks the workspace's policy for the action, deduplicates retries by `Idempotency-Key`, and stores the job `pending_approval` (gated) or `queued` (automatic) with its audit row. Refusals are audited (`job.refused`).\n\nIdempotency: same key and payload, first request done → **200** with the original job and `Idempotent-Replayed: true`; first request still running → **409** with `Retry-After: 1`; same key, different payload → **422**; same key and payload but the job since deleted by the history purge (the key stays taken for `IDEMPOTENCY_TTL_SECONDS` from the job's creation) → **410** naming `job_id` and `job_status`, never a new job; no key → **400**.\n\nRequires the scope `jobs:write`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "name": "Idempotency-Key",
            "in": "header",
            "required": true,
            "description": "1–255 printable ASCII characters. Required unless the body has `client_request_id`.",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 255,
              "pattern": "^[\\u0020-\\u007e]+$"
            },
            "example": "report-2026-11-23"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/JobSubmission"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              },
              "Location": {
                "required": true,
                "description": "The job's URL.",
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            },
            "links": {
              "GetJob": {
                "operationId": "getJob",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "The job just submitted."
              },
              "StreamJobEvents": {
                "operationId": "streamJobEvents",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "Its changes, as they happen."
              },
              "CancelJob": {
                "operationId": "cancelJob",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "Cancel it while it is pending."
              }
            }
          },
          "200": {
            "description": "A replay: the job an earlier request with this `Idempotency-Key` and payload created.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              },
              "Idempotent-Replayed": {
                "required": true,
                "schema": {
                  "const": "true"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            },
            "links": {
              "GetJob": {
                "operationId": "getJob",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "The job the earlier request created."
              }
            }
          },
          "400": {
            "description": "Malformed body, or a missing or bad `Idempotency-Key` (or `client_request_id`).",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "description": "The scope is missing, the policy does not allow the action (none, or disabled), or a policy constraint refuses it (`detail` names the recipient domain).",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "description": "Validation failed (`errors` names every bad field: unknown fields, params, `callback_url`), or the `Idempotency-Key` was used with a different payload.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          },
          "409": {
            "description": "A request with this `Idempotency-Key` is still in progress.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              },
              "Retry-After": {
                "$ref": "#/components/headers/RetryAfter"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "410": {
            "description": "The `Idempotency-Key` (same payload) created a job that the history purge has since deleted; nothing is created. `job_id` and `job_status` (how it ended) name it.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              },
              "Idempotent-Replayed": {
                "required": true,
                "schema": {
                  "const": "true"
                }
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        },
        "security": [
          {
            "apiKey": [
              "jobs:write"
            ]
          },
          {
            "jwt": [
              "jobs:write"
            ]
          },
          {
            "apiKeyHeader": [
              "jobs:write"
            ]
          }
        ],
        "x-required-scopes": [
          "jobs:write"
        ]
      },
      "get": {
        "operationId": "listJobs",
        "tags": [
          "Jobs"
        ],
        "summary": "List jobs",
        "description": "Newest first, cursor-paginated.\n\nRequires the scope `jobs:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "name": "status",
            "in": "query",
            "required": false,
            "description": "Only jobs in this status.",
            "schema": {
              "$ref": "#/components/schemas/JobStatus"
            }
          },
          {
            "name": "action",
            "in": "query",
            "required": false,
            "description": "Only jobs of this action.",
            "schema": {
              "type": "string",
              "enum": [
                "gmail.send",
                "task.create"
              ]
            }
          },
          {
            "$ref": "#/components/parameters/Limit"
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The previous page's `next_cursor`.",
            "schema": {
              "type": "string",
              "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}$"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of jobs.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/JobPage"
                }
              }
            },
            "links": {
              "GetFirstJob": {
                "operationId": "getJob",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/items/0/id"
                },
                "description": "The newest job of the page."
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "jobs:read"
            ]
          },
          {
            "jwt": [
              "jobs:read"
            ]
          },
          {
            "apiKeyHeader": [
              "jobs:read"
            ]
          }
        ],
        "x-required-scopes": [
          "jobs:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/jobs/{id}": {
      "get": {
        "operationId": "getJob",
        "tags": [
          "Jobs"
        ],
        "summary": "Get a job (optionally long-poll)",
        "description": "The job. With `wait=N` the answer waits until the job leaves the status it had (or the one named by `status`), or N seconds pass.\n\nRequires the scope `jobs:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/JobId"
          },
          {
            "name": "wait",
            "in": "query",
            "required": false,
            "description": "Seconds to wait for a change (long-poll). A waiting request counts against the same caps as event streams (429 past them).",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "maximum": 60,
              "default": 0
            }
          },
          {
            "name": "status",
            "in": "query",
            "required": false,
            "description": "With `wait`: wait until the job is no longer in this status (default: its current one).",
            "schema": {
              "$ref": "#/components/schemas/JobStatus"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The job.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "jobs:read"
            ]
          },
          {
            "jwt": [
              "jobs:read"
            ]
          },
          {
            "apiKeyHeader": [
              "jobs:read"
            ]
          }
        ],
        "x-required-scopes": [
          "jobs:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/jobs/{id}/events": {
      "get": {
        "operationId": "streamJobEvents",
        "tags": [
          "Jobs"
        ],
        "summary": "Stream a job's changes (Server-Sent Events)",
        "description": "Sends the job at once (`event: job`, `data: <job JSON>`, `id: <job id>-<updated_at ms>`), then on every change, a `: keep-alive` comment every 15 s, and ends after a terminal status. Event streams and long-polls together are capped per principal (`EVENT_WAITERS_PER_PRINCIPAL`) and per server (`EVENT_WAITERS_PER_REPLICA`): past either, 429 with `Retry-After`.\n\nRequires the scope `jobs:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/JobId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "An event stream; each `data` is a `Job`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              },
              "Cache-Control": {
                "required": true,
                "schema": {
                  "const": "no-cache"
                }
              }
            },
            "content": {
              "text/event-stream": {
                "schema": {
                  "description": "One event (OpenAPI 3.1 has no `itemSchema`; this schema describes each event of the stream).",
                  "type": "object",
                  "required": [
                    "event",
                    "data",
                    "id"
                  ],
                  "properties": {
                    "event": {
                      "const": "job"
                    },
                    "id": {
                      "type": "string",
                      "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}-[0-9]+$"
                    },
                    "data": {
                      "type": "string",
                      "contentMediaType": "application/json",
                      "contentSchema": {
                        "$ref": "#/components/schemas/Job"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "jobs:read"
            ]
          },
          {
            "jwt": [
              "jobs:read"
            ]
          },
          {
            "apiKeyHeader": [
              "jobs:read"
            ]
          }
        ],
        "x-required-scopes": [
          "jobs:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/jobs/{id}/cancel": {
      "post": {
        "operationId": "cancelJob",
        "tags": [
          "Jobs"
        ],
        "summary": "Cancel a pending job",
        "description": "By the submitter, or by an admin (`policies:admin`), while the job is `pending_approval`. Repeating it is a 200. Any body is ignored.\n\nRequires the scope `jobs:write`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/JobId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The cancelled job.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "description": "The scope is missing, or the caller is neither the submitter nor an admin (audited: `job.cancel_refused`).",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          },
          "409": {
            "description": "The job is not pending approval.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        },
        "security": [
          {
            "apiKey": [
              "jobs:write"
            ]
          },
          {
            "jwt": [
              "jobs:write"
            ]
          },
          {
            "apiKeyHeader": [
              "jobs:write"
            ]
          }
        ],
        "x-required-scopes": [
          "jobs:write"
        ]
      }
    },
    "/v1/workspaces/{ws}/approvals": {
      "get": {
        "operationId": "listApprovals",
        "tags": [
          "Approvals"
        ],
        "summary": "List approvals",
        "description": "`status=pending` (default): the queue, expiring first. `decided`, or one decided status: history, newest first.\n\nRequires the scope `approvals:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "name": "status",
            "in": "query",
            "required": false,
            "description": "Which approvals.",
            "schema": {
              "type": "string",
              "enum": [
                "pending",
                "decided",
                "approved",
                "rejected",
                "expired",
                "cancelled"
              ],
              "default": "pending"
            }
          },
          {
            "name": "action",
            "in": "query",
            "required": false,
            "description": "Only approvals of this action.",
            "schema": {
              "type": "string",
              "enum": [
                "gmail.send",
                "task.create"
              ]
            }
          },
          {
            "$ref": "#/components/parameters/Limit"
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The previous page's `next_cursor`.",
            "schema": {
              "type": "string",
              "pattern": "^apr_[0-9a-hjkmnp-tv-z]{26}$"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of approvals (without previews).",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApprovalPage"
                }
              }
            },
            "links": {
              "GetFirstApproval": {
                "operationId": "getApproval",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/items/0/id"
                },
                "description": "The first approval of the page, with its preview."
              },
              "ApproveFirst": {
                "operationId": "approveApproval",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/items/0/id"
                },
                "description": "Approve it."
              },
              "RejectFirst": {
                "operationId": "rejectApproval",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/items/0/id"
                },
                "description": "Reject it."
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "approvals:read"
            ]
          },
          {
            "jwt": [
              "approvals:read"
            ]
          },
          {
            "apiKeyHeader": [
              "approvals:read"
            ]
          }
        ],
        "x-required-scopes": [
          "approvals:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/approvals/{id}": {
      "get": {
        "operationId": "getApproval",
        "tags": [
          "Approvals"
        ],
        "summary": "Get an approval with its preview",
        "description": "The approval with the exact preview of what will run and its `payload_hash`.\n\nRequires the scope `approvals:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/ApprovalId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The approval.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApprovalWithPreview"
                }
              }
            },
            "links": {
              "Approve": {
                "operationId": "approveApproval",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "Approve what was previewed."
              },
              "Reject": {
                "operationId": "rejectApproval",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "Reject it."
              },
              "GetJob": {
                "operationId": "getJob",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/job_id"
                },
                "description": "The job behind it."
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "approvals:read"
            ]
          },
          {
            "jwt": [
              "approvals:read"
            ]
          },
          {
            "apiKeyHeader": [
              "approvals:read"
            ]
          }
        ],
        "x-required-scopes": [
          "approvals:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/approvals/{id}/approve": {
      "post": {
        "operationId": "approveApproval",
        "tags": [
          "Approvals"
        ],
        "summary": "Approve",
        "description": "Counts this reviewer's approval; with `required_approvals` distinct people the approval and the job are `approved`. Repeating one's vote is a 200 and changes nothing.\n\nRequires the scope `approvals:decide`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/ApprovalId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ApproveRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The approval after the vote.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "description": "The scope is missing; the caller is an API key (votes are people's, audited as `approval.vote_refused`); or the caller, the person the submitting key acts for, or anyone who created or rotated that key (directly or through other keys) submitted the job.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          },
          "409": {
            "description": "Already decided, expired (the approval expires on the spot), a vote the other way by the same reviewer, or `payload_hash` differs from the job's.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        },
        "security": [
          {
            "apiKey": [
              "approvals:decide"
            ]
          },
          {
            "jwt": [
              "approvals:decide"
            ]
          },
          {
            "apiKeyHeader": [
              "approvals:decide"
            ]
          }
        ],
        "x-required-scopes": [
          "approvals:decide"
        ]
      }
    },
    "/v1/workspaces/{ws}/approvals/{id}/reject": {
      "post": {
        "operationId": "rejectApproval",
        "tags": [
          "Approvals"
        ],
        "summary": "Reject",
        "description": "One rejection rejects the job; the reason becomes the job's `status_reason`.\n\nRequires the scope `approvals:decide`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/ApprovalId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/RejectRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The approval after the vote.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Approval"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "description": "The scope is missing; the caller is an API key (votes are people's, audited as `approval.vote_refused`); or the caller, the person the submitting key acts for, or anyone who created or rotated that key (directly or through other keys) submitted the job.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          },
          "409": {
            "description": "Already decided, expired (the approval expires on the spot), a vote the other way by the same reviewer, or `payload_hash` differs from the job's.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        },
        "security": [
          {
            "apiKey": [
              "approvals:decide"
            ]
          },
          {
            "jwt": [
              "approvals:decide"
            ]
          },
          {
            "apiKeyHeader": [
              "approvals:decide"
            ]
          }
        ],
        "x-required-scopes": [
          "approvals:decide"
        ]
      }
    },
    "/v1/workspaces/{ws}/policies": {
      "get": {
        "operationId": "listPolicies",
        "tags": [
          "Policies"
        ],
        "summary": "List policies",
        "description": "The allowlist: one policy per allowed action.\n\nRequires the scope `policies:admin` or `approvals:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "Every policy.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PolicyPage"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          },
          {
            "apiKey": [
              "approvals:read"
            ]
          },
          {
            "jwt": [
              "approvals:read"
            ]
          },
          {
            "apiKeyHeader": [
              "approvals:read"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin",
          "approvals:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/policies/{action}": {
      "get": {
        "operationId": "getPolicy",
        "tags": [
          "Policies"
        ],
        "summary": "Get a policy",
        "description": "404 when the action has no policy (it may not run here).\n\nRequires the scope `policies:admin` or `approvals:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/PolicyAction"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The policy.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Policy"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          },
          {
            "apiKey": [
              "approvals:read"
            ]
          },
          {
            "jwt": [
              "approvals:read"
            ]
          },
          {
            "apiKeyHeader": [
              "approvals:read"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin",
          "approvals:read"
        ]
      },
      "put": {
        "operationId": "putPolicy",
        "tags": [
          "Policies"
        ],
        "summary": "Replace a policy",
        "description": "Replaces the policy; audited (`policy.changed`, before and after). An unknown action is a 422.\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/PolicyAction"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PolicyUpdate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The saved policy.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Policy"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/api-keys": {
      "post": {
        "operationId": "createApiKey",
        "tags": [
          "API keys"
        ],
        "summary": "Create an API key",
        "description": "The secret is in this response only. A key gets at most the scopes of its creator (403 otherwise, audited as `key.create_refused`), never `approvals:decide` (422: votes are people's, cast with a JWT), and acts for its creator's person (`acts_for` naming anyone else is 422; only the operator's `gate-api keys create --acts-for` names another person). A key's previous secret, during a rotation overlap, cannot create keys (403).\n\nRequires the scope `keys:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ApiKeyCreate"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created; the secret is in `key`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              },
              "Cache-Control": {
                "required": true,
                "schema": {
                  "const": "no-store"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApiKeyWithSecret"
                }
              }
            },
            "links": {
              "Rotate": {
                "operationId": "rotateApiKey",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "Rotate the new key."
              },
              "Revoke": {
                "operationId": "revokeApiKey",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "Revoke it."
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "keys:admin"
            ]
          },
          {
            "jwt": [
              "keys:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "keys:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "keys:admin"
        ]
      },
      "get": {
        "operationId": "listApiKeys",
        "tags": [
          "API keys"
        ],
        "summary": "List API keys",
        "description": "Oldest first; never shows secrets.\n\nRequires the scope `keys:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/Limit"
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The previous page's `next_cursor`.",
            "schema": {
              "type": "string",
              "pattern": "^[a-z2-7]{16}$"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of keys.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApiKeyPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "keys:admin"
            ]
          },
          {
            "jwt": [
              "keys:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "keys:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "keys:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/api-keys/{id}": {
      "delete": {
        "operationId": "revokeApiKey",
        "tags": [
          "API keys"
        ],
        "summary": "Revoke an API key",
        "description": "Effective at once, for the current and any previous secret; audited. Only by a caller holding every scope the key holds (403 otherwise, audited as `key.revoke_refused`), and not with a key's previous secret (403).\n\nRequires the scope `keys:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/ApiKeyId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "204": {
            "description": "Revoked.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "keys:admin"
            ]
          },
          {
            "jwt": [
              "keys:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "keys:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "keys:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/api-keys/{id}/rotate": {
      "post": {
        "operationId": "rotateApiKey",
        "tags": [
          "API keys"
        ],
        "summary": "Rotate an API key",
        "description": "A new secret; the old one keeps working for `overlap_seconds`, never past the key's `expires_at`; a later rotation ends that overlap, and revoking the key ends both secrets. Only by a caller holding every scope the key holds (403 otherwise, audited as `key.rotate_refused`), and not with a key's previous secret (403). The caller then counts as a creator of the key: they cannot approve jobs it submits.\n\nRequires the scope `keys:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/ApiKeyId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ApiKeyRotate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The key with its new secret.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              },
              "Cache-Control": {
                "required": true,
                "schema": {
                  "const": "no-store"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApiKeyWithSecret"
                }
              }
            },
            "links": {
              "Revoke": {
                "operationId": "revokeApiKey",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/id"
                },
                "description": "Revoke the rotated key."
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          },
          "409": {
            "description": "The key is revoked.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        },
        "security": [
          {
            "apiKey": [
              "keys:admin"
            ]
          },
          {
            "jwt": [
              "keys:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "keys:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "keys:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/tasks": {
      "get": {
        "operationId": "listTasks",
        "tags": [
          "Tasks"
        ],
        "summary": "List tasks",
        "description": "Tasks created by `task.create` jobs, newest first.\n\nRequires the scope `jobs:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "name": "assignee",
            "in": "query",
            "required": false,
            "description": "Only tasks with this assignee (1 to 255 characters without control characters).",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 255,
              "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
            }
          },
          {
            "$ref": "#/components/parameters/Limit"
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The previous page's `next_cursor`.",
            "schema": {
              "type": "string",
              "pattern": "^tsk_[0-9a-hjkmnp-tv-z]{26}$"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of tasks.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TaskPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "jobs:read"
            ]
          },
          {
            "jwt": [
              "jobs:read"
            ]
          },
          {
            "apiKeyHeader": [
              "jobs:read"
            ]
          }
        ],
        "x-required-scopes": [
          "jobs:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/dead-letters": {
      "get": {
        "operationId": "listDeadLetters",
        "tags": [
          "Execution"
        ],
        "summary": "List dead letters",
        "description": "Jobs that used up their attempts, newest first, with the last error in `status_code` / `status_reason`.\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/Limit"
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The previous page's `next_cursor`.",
            "schema": {
              "type": "string",
              "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}$"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of dead jobs.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/JobPage"
                }
              }
            },
            "links": {
              "RequeueFirst": {
                "operationId": "requeueDeadLetter",
                "parameters": {
                  "ws": "$request.path.ws",
                  "id": "$response.body#/items/0/id"
                },
                "description": "Requeue the newest dead job."
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/dead-letters/{id}/requeue": {
      "post": {
        "operationId": "requeueDeadLetter",
        "tags": [
          "Execution"
        ],
        "summary": "Requeue a dead job",
        "description": "Back to `approved` (gated) or `queued`, attempts from 0; audited (`job.requeued`). Any body is ignored. Whether an earlier attempt may have delivered is kept, so the next run asks the provider before sending. A job parked with `status_code` `delivery_unknown` (it may have been delivered and the provider cannot be asked) is requeued only with `confirm_resend=true`, which sends it again without asking (audited with `resend_confirmed`); without it, 409 (audited, `job.requeue_refused`).\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/JobId"
          },
          {
            "name": "confirm_resend",
            "in": "query",
            "required": false,
            "description": "Required (`true`) to requeue a job parked as `delivery_unknown`: the admin accepts that it may be delivered twice.",
            "schema": {
              "type": "string",
              "enum": [
                "true",
                "false"
              ],
              "default": "false"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The requeued job.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          },
          "409": {
            "description": "The job is not dead, or it is parked as `delivery_unknown` and `confirm_resend=true` was not given.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/webhook-secrets": {
      "post": {
        "operationId": "rotateWebhookSecret",
        "tags": [
          "Webhooks"
        ],
        "summary": "Create (rotate) the workspace's webhook secret",
        "description": "Creates a new signing secret (`whsec_<base64 of 32 bytes>`, in this response only; stored sealed under `SECRETS_KEY`) and makes it the current one. The secret it replaces keeps signing for `overlap_seconds` (both signatures are sent, space-separated, in `webhook-signature`); any older one stops at once. 503 when the server has no `SECRETS_KEY`. Audited (`webhook_secret.rotated`).\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/WebhookSecretRotate"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created; the secret is in `secret`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              },
              "Cache-Control": {
                "required": true,
                "schema": {
                  "const": "no-store"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/WebhookSecretWithSecret"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      },
      "get": {
        "operationId": "listWebhookSecrets",
        "tags": [
          "Webhooks"
        ],
        "summary": "List the workspace's webhook secrets",
        "description": "The secrets that sign now (the current one first) and those that stopped within the last day, newest first; never the secrets themselves.\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The secrets.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/WebhookSecretList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/webhook-secrets/{id}": {
      "delete": {
        "operationId": "revokeWebhookSecret",
        "tags": [
          "Webhooks"
        ],
        "summary": "Stop a webhook secret signing",
        "description": "At once: for a leaked secret, or to end a rotation's overlap early. Repeating it is a 204. Audited (`webhook_secret.revoked`).\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/WebhookSecretId"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "204": {
            "description": "It no longer signs.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/gmail-credentials": {
      "get": {
        "operationId": "getGmailCredentials",
        "tags": [
          "Execution"
        ],
        "summary": "Which Gmail credentials are set",
        "description": "Only their kind, never the secrets.\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The stored credentials' kind.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GmailCredentials"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      },
      "put": {
        "operationId": "putGmailCredentials",
        "tags": [
          "Execution"
        ],
        "summary": "Set Gmail credentials",
        "description": "An access token, or a refresh token with the OAuth client; sealed under `SECRETS_KEY` and bound to the workspace. Audited.\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/GmailCredentialsInput"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Stored.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GmailCredentials"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "description": "A dependency is unavailable, or the server has no `SECRETS_KEY` to seal credentials with.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimitOptional"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemainingOptional"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitResetOptional"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicyOptional"
              },
              "Retry-After": {
                "$ref": "#/components/headers/RetryAfterOptional"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      },
      "delete": {
        "operationId": "deleteGmailCredentials",
        "tags": [
          "Execution"
        ],
        "summary": "Remove Gmail credentials",
        "description": "Audited.\n\nRequires the scope `policies:admin`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "204": {
            "description": "Removed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "policies:admin"
            ]
          },
          {
            "jwt": [
              "policies:admin"
            ]
          },
          {
            "apiKeyHeader": [
              "policies:admin"
            ]
          }
        ],
        "x-required-scopes": [
          "policies:admin"
        ]
      }
    },
    "/v1/workspaces/{ws}/audit": {
      "get": {
        "operationId": "listAuditEvents",
        "tags": [
          "Audit"
        ],
        "summary": "Query the audit log",
        "description": "Sealed events in chain order (oldest first); each event exactly once however many arrive while you page. A bad parameter is a 400 naming it in `errors`.\n\nRequires the scope `audit:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "name": "from",
            "in": "query",
            "required": false,
            "description": "Events at or after this instant (RFC 3339).",
            "schema": {
              "type": "string",
              "format": "date-time",
              "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
            }
          },
          {
            "name": "to",
            "in": "query",
            "required": false,
            "description": "Events before this instant (RFC 3339); must be later than `from` (400 otherwise).",
            "schema": {
              "type": "string",
              "format": "date-time",
              "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
            }
          },
          {
            "name": "action",
            "in": "query",
            "required": false,
            "description": "Only this event action, e.g. `job.submitted`.",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200,
              "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
            }
          },
          {
            "name": "actor",
            "in": "query",
            "required": false,
            "description": "Only events by this actor id.",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 512,
              "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
            }
          },
          {
            "name": "target",
            "in": "query",
            "required": false,
            "description": "Only events about this target id.",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 512,
              "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
            }
          },
          {
            "name": "outcome",
            "in": "query",
            "required": false,
            "description": "Only this outcome.",
            "schema": {
              "type": "string",
              "enum": [
                "success",
                "denied",
                "failure"
              ]
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Page size.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500,
              "default": 50
            }
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The previous page's `next_cursor`.",
            "schema": {
              "type": "string",
              "pattern": "^[0-9]{1,18}$"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of events.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AuditEventPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "audit:read"
            ]
          },
          {
            "jwt": [
              "audit:read"
            ]
          },
          {
            "apiKeyHeader": [
              "audit:read"
            ]
          }
        ],
        "x-required-scopes": [
          "audit:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/audit/verify": {
      "get": {
        "operationId": "verifyAuditChain",
        "tags": [
          "Audit"
        ],
        "summary": "Verify the hash chain",
        "description": "Chains what is committed, then recomputes the whole chain; `first_bad_sequence` and `reason` name the first broken link. Shares the export's limit of concurrent runs (429 with `Retry-After` beyond it).\n\nRequires the scope `audit:read`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The verification.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AuditVerification"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "audit:read"
            ]
          },
          {
            "jwt": [
              "audit:read"
            ]
          },
          {
            "apiKeyHeader": [
              "audit:read"
            ]
          }
        ],
        "x-required-scopes": [
          "audit:read"
        ]
      }
    },
    "/v1/workspaces/{ws}/audit/export": {
      "get": {
        "operationId": "exportAuditLog",
        "tags": [
          "Audit"
        ],
        "summary": "Export the audit log",
        "description": "Streamed in constant memory: the chain up to its head when the export starts; recorded first as `audit.exported`. JSONL: one `AuditEvent` per line. CSV (RFC 4180, header row): cells that a spreadsheet could take for a formula get a leading `'`. If the stream fails midway, or the client takes nothing for `AUDIT_EXPORT_IDLE_SECONDS`, or it runs past `AUDIT_EXPORT_MAX_SECONDS`, the connection is closed without the final chunk. At most `AUDIT_EXPORT_CONCURRENCY` exports and verifications run at once per server, and `AUDIT_EXPORT_PER_WORKSPACE` per workspace; another gets 429 with `Retry-After` and is not recorded.\n\nRequires the scope `audit:export`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Workspace"
          },
          {
            "name": "format",
            "in": "query",
            "required": false,
            "description": "`jsonl` (`application/x-ndjson`) or `csv` (`text/csv`).",
            "schema": {
              "type": "string",
              "enum": [
                "jsonl",
                "csv"
              ],
              "default": "jsonl"
            }
          },
          {
            "name": "from",
            "in": "query",
            "required": false,
            "description": "Events at or after this instant (RFC 3339).",
            "schema": {
              "type": "string",
              "format": "date-time",
              "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
            }
          },
          {
            "name": "to",
            "in": "query",
            "required": false,
            "description": "Events before this instant (RFC 3339); must be later than `from` (400 otherwise).",
            "schema": {
              "type": "string",
              "format": "date-time",
              "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
            }
          },
          {
            "$ref": "#/components/parameters/RequestId"
          }
        ],
        "responses": {
          "200": {
            "description": "The export, as an attachment.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/XRequestId"
              },
              "RateLimit-Limit": {
                "$ref": "#/components/headers/RateLimitLimit"
              },
              "RateLimit-Remaining": {
                "$ref": "#/components/headers/RateLimitRemaining"
              },
              "RateLimit-Reset": {
                "$ref": "#/components/headers/RateLimitReset"
              },
              "RateLimit-Policy": {
                "$ref": "#/components/headers/RateLimitPolicy"
              },
              "Cache-Control": {
                "required": true,
                "schema": {
                  "const": "no-store"
                }
              },
              "Content-Disposition": {
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "`attachment; filename=\"audit-<ws>-<time>.<format>\"`"
              }
            },
            "content": {
              "application/x-ndjson": {
                "schema": {
                  "type": "string"
                },
                "x-line-schema": {
                  "$ref": "#/components/schemas/AuditEvent"
                }
              },
              "text/csv": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        },
        "security": [
          {
            "apiKey": [
              "audit:export"
            ]
          },
          {
            "jwt": [
              "audit:export"
            ]
          },
          {
            "apiKeyHeader": [
              "audit:export"
            ]
          }
        ],
        "x-required-scopes": [
          "audit:export"
        ]
      }
    }
  },
  "components": {
    "securitySchemes": {
      "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "gk_<id>_<secret><checksum>",
        "description": "A workspace API key: `Authorization: Bearer gk_…`."
      },
      "jwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT from the identity provider (HS256, RS256, ES256 or EdDSA): `iss`, `aud`, `exp` required; the `ws` claim maps workspace ids to scopes."
      },
      "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A workspace API key in `X-API-Key` (when `Authorization` is absent)."
      }
    },
    "schemas": {
      "ApiKey": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "workspace",
          "name",
          "scopes",
          "created_by",
          "created_at"
        ],
        "description": "An API key without its secret. Absent values are omitted.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^[a-z2-7]{16}$"
          },
          "workspace": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "scopes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Scope"
            }
          },
          "created_by": {
            "type": "string",
            "description": "`api_key:<id>`, `user:<sub>` or `cli:…`."
          },
          "acts_for": {
            "type": "string"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "expires_at": {
            "type": "string",
            "format": "date-time"
          },
          "revoked_at": {
            "type": "string",
            "format": "date-time"
          },
          "rotated_at": {
            "type": "string",
            "format": "date-time"
          },
          "last_used_at": {
            "type": "string",
            "format": "date-time",
            "description": "Written at most once a minute per key."
          },
          "previous_key_expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "After a rotation, until the old secret stops working."
          }
        }
      },
      "ApiKeyCreate": {
        "type": "object",
        "required": [
          "name",
          "scopes"
        ],
        "description": "Other fields are ignored.",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^[^\\u0000-\\u001f\\u007f]*[^\\u0000-\\u0020\\u007f\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000][^\\u0000-\\u001f\\u007f]*$",
            "description": "Trimmed of spaces; 1 to 200 characters without control characters."
          },
          "scopes": {
            "type": "array",
            "minItems": 1,
            "items": {
              "$ref": "#/components/schemas/KeyScope"
            },
            "description": "At most the scopes the caller holds (403 otherwise); `approvals:decide` is never given to a key (422)."
          },
          "expires_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$",
            "description": "RFC 3339, in the future (422 otherwise)."
          },
          "acts_for": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
            "description": "The person the key acts for: always the creator's (the JWT's `sub`, or the person of the creating key). Omit it, or name that same person; anyone else is 422."
          }
        }
      },
      "ApiKeyPage": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "items",
          "next_cursor"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ApiKey"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ],
            "description": "The `cursor` of the next page; `null` on the last page."
          }
        }
      },
      "ApiKeyRotate": {
        "type": "object",
        "description": "Optional body. Other fields are ignored.",
        "properties": {
          "overlap_seconds": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 2592000,
            "description": "How long the old secret keeps working; default `API_KEY_ROTATION_OVERLAP_SECONDS`."
          }
        }
      },
      "ApiKeyWithSecret": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "workspace",
          "name",
          "scopes",
          "created_by",
          "created_at",
          "key"
        ],
        "description": "An API key with its secret: only in the answer to create and rotate.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^[a-z2-7]{16}$"
          },
          "workspace": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "scopes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Scope"
            }
          },
          "created_by": {
            "type": "string",
            "description": "`api_key:<id>`, `user:<sub>` or `cli:…`."
          },
          "acts_for": {
            "type": "string"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "expires_at": {
            "type": "string",
            "format": "date-time"
          },
          "revoked_at": {
            "type": "string",
            "format": "date-time"
          },
          "rotated_at": {
            "type": "string",
            "format": "date-time"
          },
          "last_used_at": {
            "type": "string",
            "format": "date-time",
            "description": "Written at most once a minute per key."
          },
          "previous_key_expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "After a rotation, until the old secret stops working."
          },
          "key": {
            "type": "string",
            "pattern": "^gk_[a-z2-7]{16}_[a-z2-7]{47}$",
            "description": "`gk_<id>_<secret><checksum>`; shown once."
          }
        }
      },
      "Approval": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "workspace",
          "job_id",
          "action",
          "status",
          "payload_hash",
          "required_approvals",
          "approvals",
          "expires_at",
          "created_at",
          "decided_at",
          "reason",
          "reason_code",
          "votes"
        ],
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^apr_[0-9a-hjkmnp-tv-z]{26}$"
          },
          "workspace": {
            "type": "string"
          },
          "job_id": {
            "type": "string",
            "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}$"
          },
          "action": {
            "type": "string",
            "enum": [
              "gmail.send",
              "task.create"
            ]
          },
          "status": {
            "$ref": "#/components/schemas/ApprovalStatus"
          },
          "payload_hash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
          },
          "required_approvals": {
            "type": "integer",
            "minimum": 1
          },
          "approvals": {
            "type": "integer",
            "minimum": 0,
            "description": "Distinct people who approved so far."
          },
          "expires_at": {
            "type": "string",
            "format": "date-time"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "decided_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time"
          },
          "reason": {
            "type": [
              "string",
              "null"
            ],
            "description": "The rejection reason."
          },
          "reason_code": {
            "type": [
              "string",
              "null"
            ]
          },
          "votes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Vote"
            }
          }
        }
      },
      "ApprovalPage": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "items",
          "next_cursor"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Approval"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ],
            "description": "The `cursor` of the next page; `null` on the last page."
          }
        }
      },
      "ApprovalStatus": {
        "type": "string",
        "enum": [
          "pending",
          "approved",
          "rejected",
          "expired",
          "cancelled"
        ]
      },
      "ApprovalWithPreview": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "workspace",
          "job_id",
          "action",
          "status",
          "payload_hash",
          "required_approvals",
          "approvals",
          "expires_at",
          "created_at",
          "decided_at",
          "reason",
          "reason_code",
          "votes"
        ],
        "description": "The approval and the exact preview of what will run (absent only if the stored params no longer validate).",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^apr_[0-9a-hjkmnp-tv-z]{26}$"
          },
          "workspace": {
            "type": "string"
          },
          "job_id": {
            "type": "string",
            "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}$"
          },
          "action": {
            "type": "string",
            "enum": [
              "gmail.send",
              "task.create"
            ]
          },
          "status": {
            "$ref": "#/components/schemas/ApprovalStatus"
          },
          "payload_hash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
          },
          "required_approvals": {
            "type": "integer",
            "minimum": 1
          },
          "approvals": {
            "type": "integer",
            "minimum": 0,
            "description": "Distinct people who approved so far."
          },
          "expires_at": {
            "type": "string",
            "format": "date-time"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "decided_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time"
          },
          "reason": {
            "type": [
              "string",
              "null"
            ],
            "description": "The rejection reason."
          },
          "reason_code": {
            "type": [
              "string",
              "null"
            ]
          },
          "votes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Vote"
            }
          },
          "preview": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/GmailSendPreview"
              },
              {
                "$ref": "#/components/schemas/TaskCreatePreview"
              }
            ]
          }
        }
      },
      "ApproveRequest": {
        "type": "object",
        "description": "Optional body. Other fields are ignored.",
        "properties": {
          "comment": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 2000,
            "pattern": "^[^\\u0000]*$",
            "description": "At most 2000 characters, without NUL."
          },
          "payload_hash": {
            "type": [
              "string",
              "null"
            ],
            "description": "The `payload_hash` you reviewed; a different one is a 409."
          }
        }
      },
      "AuditEvent": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "seq",
          "position",
          "occurred_at",
          "workspace",
          "actor",
          "action",
          "target",
          "outcome",
          "request_id",
          "details",
          "prev_hash",
          "hash"
        ],
        "description": "A sealed audit event (docs/audit.md). Also the shape of each JSONL export line.",
        "properties": {
          "seq": {
            "type": "integer"
          },
          "position": {
            "type": "integer",
            "minimum": 1,
            "description": "1, 2, 3 … per workspace: the chain order."
          },
          "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "UTC with microseconds."
          },
          "workspace": {
            "type": "string"
          },
          "actor": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "type",
              "id",
              "ip"
            ],
            "properties": {
              "type": {
                "type": "string",
                "examples": [
                  "api_key",
                  "user",
                  "cli",
                  "system",
                  "anonymous"
                ]
              },
              "id": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "ip": {
                "type": [
                  "string",
                  "null"
                ]
              }
            }
          },
          "action": {
            "type": "string",
            "examples": [
              "job.submitted"
            ]
          },
          "target": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "type",
              "id"
            ],
            "properties": {
              "type": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "id": {
                "type": [
                  "string",
                  "null"
                ]
              }
            }
          },
          "outcome": {
            "enum": [
              "success",
              "denied",
              "failure"
            ]
          },
          "request_id": {
            "type": [
              "string",
              "null"
            ]
          },
          "details": {
            "type": "object",
            "description": "Never holds secrets."
          },
          "prev_hash": {
            "type": [
              "string",
              "null"
            ],
            "pattern": "^[0-9a-f]{64}$",
            "description": "`null` for the first event of a workspace."
          },
          "hash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
          }
        }
      },
      "AuditEventPage": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "items",
          "next_cursor"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/AuditEvent"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ],
            "description": "The chain position to pass as `cursor` for the next page; `null` on the last page."
          }
        }
      },
      "AuditVerification": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "ok",
          "events_checked",
          "first_bad_sequence",
          "first_bad_position",
          "reason",
          "unsealed",
          "head"
        ],
        "properties": {
          "ok": {
            "type": "boolean"
          },
          "events_checked": {
            "type": "integer",
            "minimum": 0
          },
          "first_bad_sequence": {
            "type": [
              "integer",
              "null"
            ]
          },
          "first_bad_position": {
            "type": [
              "integer",
              "null"
            ]
          },
          "reason": {
            "type": [
              "string",
              "null"
            ],
            "description": "Why the first broken link is broken."
          },
          "unsealed": {
            "type": "integer",
            "minimum": 0,
            "description": "Events not yet chained."
          },
          "head": {
            "anyOf": [
              {
                "type": "null"
              },
              {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "position",
                  "hash"
                ],
                "properties": {
                  "position": {
                    "type": "integer"
                  },
                  "hash": {
                    "type": "string"
                  }
                }
              }
            ]
          }
        }
      },
      "FieldError": {
        "type": "object",
        "required": [
          "field",
          "message"
        ],
        "additionalProperties": false,
        "properties": {
          "field": {
            "type": "string",
            "description": "JSON path of the bad field, e.g. `params.to[2]`, or the query parameter's name.",
            "examples": [
              "params.to[0]"
            ]
          },
          "message": {
            "type": "string",
            "examples": [
              "is not a valid email address"
            ]
          }
        }
      },
      "WebhookSecret": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "created_by",
          "created_at",
          "signing"
        ],
        "description": "A workspace webhook secret without the secret. Absent values are omitted.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^whs_[a-z2-7]{16}$"
          },
          "created_by": {
            "type": "string",
            "description": "`api_key:<id>`, `user:<sub>` or `cli:…`."
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "When it stops (stopped) signing; absent for the current secret."
          },
          "signing": {
            "type": "boolean",
            "description": "Whether deliveries are signed with it now."
          }
        }
      },
      "WebhookSecretWithSecret": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "created_by",
          "created_at",
          "signing",
          "secret"
        ],
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^whs_[a-z2-7]{16}$"
          },
          "created_by": {
            "type": "string",
            "description": "`api_key:<id>`, `user:<sub>` or `cli:…`."
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "When it stops (stopped) signing; absent for the current secret."
          },
          "signing": {
            "type": "boolean",
            "description": "Whether deliveries are signed with it now."
          },
          "secret": {
            "type": "string",
            "pattern": "^whsec_[A-Za-z0-9+/]{43}=$",
            "description": "Shown once. The HMAC key is the base64-decoded part after `whsec_`."
          }
        }
      },
      "WebhookSecretList": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "items"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/WebhookSecret"
            }
          }
        }
      },
      "WebhookSecretRotate": {
        "type": "object",
        "description": "Optional body. Other fields are ignored.",
        "properties": {
          "overlap_seconds": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 2592000,
            "description": "How long the replaced secret keeps signing; default 86400."
          }
        }
      },
      "GmailCredentials": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "kind",
          "updated_by",
          "updated_at"
        ],
        "properties": {
          "kind": {
            "enum": [
              "access_token",
              "refresh_token"
            ]
          },
          "updated_by": {
            "type": "string"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "GmailCredentialsInput": {
        "description": "Stored sealed (AES-256-GCM under `SECRETS_KEY`); never returned.",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "type",
              "access_token"
            ],
            "properties": {
              "type": {
                "const": "access_token"
              },
              "access_token": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "pattern": "^[\\u0021-\\u007e]+$"
              }
            }
          },
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "type",
              "refresh_token",
              "client_id",
              "client_secret"
            ],
            "properties": {
              "type": {
                "const": "refresh_token"
              },
              "refresh_token": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "pattern": "^[\\u0021-\\u007e]+$"
              },
              "client_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1024,
                "pattern": "^[\\u0021-\\u007e]+$"
              },
              "client_secret": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1024,
                "pattern": "^[\\u0021-\\u007e]+$"
              }
            }
          }
        ]
      },
      "GmailSendJob": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "action",
          "params"
        ],
        "properties": {
          "action": {
            "const": "gmail.send"
          },
          "params": {
            "$ref": "#/components/schemas/GmailSendParams"
          },
          "callback_url": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 2048,
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@-]*)*(?:\\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?$",
            "description": "An absolute `http` or `https` URL with a host and no user info, at most 2048 characters; every status change is POSTed there (signed, see the README). Refused (422) when the server has no `WEBHOOK_SECRET`. The server takes any URL that parses as such; the pattern describes the common subset (no percent-encoding, fragment or user info).",
            "examples": [
              "https://agent.example.com/hooks/gateapi"
            ]
          },
          "client_request_id": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[\\u0020-\\u007e]*$",
            "description": "Alias of the `Idempotency-Key` header (both given and different: 400)."
          }
        }
      },
      "GmailSendParams": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "to",
          "subject",
          "text"
        ],
        "description": "`gmail.send` params. `to`, `cc` and `bcc` together have at most 100 recipients. Unknown fields are refused (422, each named); `null` is the same as an absent optional field.",
        "properties": {
          "to": {
            "type": "array",
            "items": {
              "type": "string",
              "minLength": 1,
              "maxLength": 320,
              "pattern": "^[ \\t]*(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}|[^<>\"\\r\\n\\u0000]*<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}>)[ \\t]*$",
              "description": "`user@example.com` or `Display Name <user@example.com>`. Quoted local parts, comments, groups and line breaks are refused (no header injection). The server takes any dot-atom local part of up to 64 characters and any host name of up to 253 (address at most 254, top-level domain letters only); the pattern describes the common subset: up to three dot-separated parts, up to four domain labels.",
              "examples": [
                "Ann Lee <ann@example.com>"
              ]
            },
            "minItems": 1,
            "maxItems": 100
          },
          "cc": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "type": "string",
              "minLength": 1,
              "maxLength": 320,
              "pattern": "^[ \\t]*(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}|[^<>\"\\r\\n\\u0000]*<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}>)[ \\t]*$",
              "description": "`user@example.com` or `Display Name <user@example.com>`. Quoted local parts, comments, groups and line breaks are refused (no header injection). The server takes any dot-atom local part of up to 64 characters and any host name of up to 253 (address at most 254, top-level domain letters only); the pattern describes the common subset: up to three dot-separated parts, up to four domain labels.",
              "examples": [
                "Ann Lee <ann@example.com>"
              ]
            },
            "minItems": 0,
            "maxItems": 100
          },
          "bcc": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "type": "string",
              "minLength": 1,
              "maxLength": 320,
              "pattern": "^[ \\t]*(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}|[^<>\"\\r\\n\\u0000]*<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}>)[ \\t]*$",
              "description": "`user@example.com` or `Display Name <user@example.com>`. Quoted local parts, comments, groups and line breaks are refused (no header injection). The server takes any dot-atom local part of up to 64 characters and any host name of up to 253 (address at most 254, top-level domain letters only); the pattern describes the common subset: up to three dot-separated parts, up to four domain labels.",
              "examples": [
                "Ann Lee <ann@example.com>"
              ]
            },
            "minItems": 0,
            "maxItems": 100
          },
          "reply_to": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 320,
            "pattern": "^[ \\t]*(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}|[^<>\"\\r\\n\\u0000]*<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}){0,2}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\\.){1,3}[A-Za-z]{2,24}>)[ \\t]*$",
            "description": "`user@example.com` or `Display Name <user@example.com>`. Quoted local parts, comments, groups and line breaks are refused (no header injection). The server takes any dot-atom local part of up to 64 characters and any host name of up to 253 (address at most 254, top-level domain letters only); the pattern describes the common subset: up to three dot-separated parts, up to four domain labels.",
            "examples": [
              "Ann Lee <ann@example.com>"
            ]
          },
          "subject": {
            "type": "string",
            "minLength": 1,
            "maxLength": 500,
            "pattern": "^[^\\r\\n\\u0000]*$",
            "description": "One line."
          },
          "text": {
            "type": "string",
            "minLength": 1,
            "maxLength": 524288,
            "pattern": "^[^\\u0000]*$"
          },
          "html": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 524288,
            "pattern": "^[^\\u0000]*$"
          }
        }
      },
      "GmailSendPreview": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "headers",
          "to",
          "subject",
          "text",
          "recipient_count"
        ],
        "properties": {
          "headers": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "The exact header lines of the message (RFC 2047 encoded-words for non-ASCII); Date and Message-ID are added when it is sent."
          },
          "to": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "cc": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "bcc": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "reply_to": {
            "type": "string"
          },
          "subject": {
            "type": "string"
          },
          "text": {
            "type": "string"
          },
          "html": {
            "type": "string"
          },
          "recipient_count": {
            "type": "integer",
            "minimum": 1
          }
        }
      },
      "GmailSendResult": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "message_id",
          "thread_id",
          "rfc822_message_id",
          "already_sent"
        ],
        "properties": {
          "message_id": {
            "type": "string"
          },
          "thread_id": {
            "type": [
              "string",
              "null"
            ]
          },
          "rfc822_message_id": {
            "type": "string"
          },
          "already_sent": {
            "type": "boolean"
          }
        }
      },
      "GmailSendStoredParams": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "to",
          "subject",
          "text"
        ],
        "description": "`gmail.send` params in normal form (trimmed addresses; absent fields omitted).",
        "properties": {
          "to": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "minItems": 1
          },
          "cc": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "minItems": 1
          },
          "bcc": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "minItems": 1
          },
          "reply_to": {
            "type": "string"
          },
          "subject": {
            "type": "string"
          },
          "text": {
            "type": "string"
          },
          "html": {
            "type": "string"
          }
        }
      },
      "Health": {
        "type": "object",
        "required": [
          "status"
        ],
        "additionalProperties": false,
        "properties": {
          "status": {
            "const": "ok"
          }
        }
      },
      "Job": {
        "type": "object",
        "additionalProperties": false,
        "description": "A job as the API shows it. Every key is present; absent values are `null`.",
        "required": [
          "id",
          "workspace",
          "action",
          "status",
          "params",
          "payload_hash",
          "idempotency_key",
          "submitted_by",
          "acts_for",
          "callback_url",
          "required_approvals",
          "expires_at",
          "created_at",
          "updated_at",
          "status_reason",
          "status_code",
          "attempts",
          "next_attempt_at",
          "result"
        ],
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}$"
          },
          "workspace": {
            "type": "string"
          },
          "action": {
            "type": "string",
            "enum": [
              "gmail.send",
              "task.create"
            ]
          },
          "status": {
            "$ref": "#/components/schemas/JobStatus"
          },
          "params": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/GmailSendStoredParams"
              },
              {
                "$ref": "#/components/schemas/TaskCreateStoredParams"
              }
            ]
          },
          "payload_hash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "Hex SHA-256 of the canonical JSON of `{\"action\": …, \"params\": …}`."
          },
          "idempotency_key": {
            "type": "string"
          },
          "submitted_by": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "type",
              "id"
            ],
            "properties": {
              "type": {
                "enum": [
                  "api_key",
                  "user"
                ]
              },
              "id": {
                "type": "string"
              }
            }
          },
          "acts_for": {
            "type": [
              "string",
              "null"
            ],
            "description": "The person behind the submitting key (separation of duties)."
          },
          "callback_url": {
            "type": [
              "string",
              "null"
            ]
          },
          "required_approvals": {
            "type": "integer",
            "minimum": 0,
            "description": "0 for automatic (ungated) jobs."
          },
          "expires_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time",
            "description": "When the approval expires (gated jobs only)."
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          },
          "status_reason": {
            "type": [
              "string",
              "null"
            ],
            "description": "The rejection reason, or the last execution error."
          },
          "status_code": {
            "type": [
              "string",
              "null"
            ],
            "description": "A stable code for the last error, e.g. `gmail_unavailable`."
          },
          "attempts": {
            "type": "integer",
            "minimum": 0
          },
          "next_attempt_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time",
            "description": "While a failed attempt waits to be retried."
          },
          "result": {
            "description": "On success: `{task_id}` or `{message_id, thread_id, rfc822_message_id, already_sent}`.",
            "anyOf": [
              {
                "type": "null"
              },
              {
                "$ref": "#/components/schemas/TaskResult"
              },
              {
                "$ref": "#/components/schemas/GmailSendResult"
              }
            ]
          }
        }
      },
      "JobPage": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "items",
          "next_cursor"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Job"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ],
            "description": "The `cursor` of the next page; `null` on the last page."
          }
        }
      },
      "JobStatus": {
        "type": "string",
        "enum": [
          "pending_approval",
          "queued",
          "approved",
          "running",
          "succeeded",
          "failed",
          "rejected",
          "expired",
          "cancelled",
          "dead"
        ]
      },
      "JobSubmission": {
        "description": "An action and its params. Unknown top-level fields are refused (422).",
        "oneOf": [
          {
            "$ref": "#/components/schemas/GmailSendJob"
          },
          {
            "$ref": "#/components/schemas/TaskCreateJob"
          }
        ],
        "discriminator": {
          "propertyName": "action",
          "mapping": {
            "gmail.send": "#/components/schemas/GmailSendJob",
            "task.create": "#/components/schemas/TaskCreateJob"
          }
        }
      },
      "Policy": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "action",
          "enabled",
          "approval",
          "approval_timeout_seconds",
          "required_approvals",
          "constraints"
        ],
        "properties": {
          "action": {
            "type": "string",
            "enum": [
              "gmail.send",
              "task.create"
            ]
          },
          "enabled": {
            "type": "boolean"
          },
          "approval": {
            "enum": [
              "required",
              "auto"
            ]
          },
          "approval_timeout_seconds": {
            "type": "integer",
            "minimum": 1,
            "maximum": 31536000
          },
          "required_approvals": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10
          },
          "constraints": {
            "$ref": "#/components/schemas/PolicyConstraints"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "PolicyConstraints": {
        "type": "object",
        "additionalProperties": false,
        "description": "`gmail.send` only: `allowed_recipient_domains` (a domain matches itself and its subdomains) and `max_recipients`. Any constraint on `task.create` is a 422.",
        "properties": {
          "allowed_recipient_domains": {
            "type": "array",
            "items": {
              "type": "string",
              "pattern": "^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$",
              "maxLength": 251
            }
          },
          "max_recipients": {
            "type": "integer",
            "minimum": 1,
            "maximum": 100
          }
        }
      },
      "PolicyPage": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "items",
          "next_cursor"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Policy"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ],
            "description": "Always `null`: all policies are on one page."
          }
        },
        "description": "Every policy of the workspace."
      },
      "PolicyUpdate": {
        "type": "object",
        "additionalProperties": false,
        "description": "Replaces the policy; absent fields take their defaults (`enabled: true`, `approval: \"required\"`, the server's `APPROVAL_TIMEOUT_SECONDS`, `required_approvals: 1`, no constraints). Unknown fields are a 422.",
        "properties": {
          "enabled": {
            "type": "boolean",
            "default": true
          },
          "approval": {
            "enum": [
              "required",
              "auto"
            ],
            "default": "required"
          },
          "approval_timeout_seconds": {
            "type": "integer",
            "minimum": 1,
            "maximum": 31536000
          },
          "required_approvals": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10,
            "default": 1
          },
          "constraints": {
            "$ref": "#/components/schemas/PolicyConstraints"
          }
        }
      },
      "Problem": {
        "type": "object",
        "description": "An RFC 9457 problem (`application/problem+json`): the body of every error response. `type` is a stable URI per status; `detail` is written for the client and never holds an internal message. Extension members: `errors` (validation failures, one per bad field), `checks` (readiness), `job_id` and `job_status` (a submission's 410).",
        "required": [
          "type",
          "title",
          "status",
          "detail",
          "request_id"
        ],
        "properties": {
          "type": {
            "type": "string",
            "format": "uri",
            "pattern": "^https://gateapi\\.dev/problems/[0-9]{3}$",
            "examples": [
              "https://gateapi.dev/problems/404"
            ]
          },
          "title": {
            "type": "string",
            "examples": [
              "Not Found"
            ]
          },
          "status": {
            "type": "integer",
            "minimum": 400,
            "maximum": 599
          },
          "detail": {
            "type": "string"
          },
          "request_id": {
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,128}$",
            "description": "The request's `X-Request-Id`."
          },
          "errors": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/FieldError"
            },
            "description": "The fields that failed validation (400 and 422)."
          },
          "checks": {
            "$ref": "#/components/schemas/ReadinessChecks"
          },
          "job_id": {
            "type": "string",
            "description": "410 on job submission: the job the `Idempotency-Key` created, since purged from history."
          },
          "job_status": {
            "type": "string",
            "description": "410 on job submission: how that job ended."
          }
        },
        "additionalProperties": false
      },
      "Readiness": {
        "type": "object",
        "required": [
          "status",
          "checks"
        ],
        "additionalProperties": false,
        "properties": {
          "status": {
            "const": "ready"
          },
          "checks": {
            "$ref": "#/components/schemas/ReadinessChecks"
          }
        }
      },
      "ReadinessChecks": {
        "type": "object",
        "required": [
          "postgres",
          "redis"
        ],
        "additionalProperties": false,
        "properties": {
          "postgres": {
            "enum": [
              "ok",
              "unavailable"
            ]
          },
          "redis": {
            "enum": [
              "ok",
              "unavailable"
            ]
          }
        }
      },
      "RejectRequest": {
        "type": "object",
        "required": [
          "reason"
        ],
        "description": "Other fields are ignored.",
        "properties": {
          "reason": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2000,
            "pattern": "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$",
            "description": "Reaches the agent as the job's `status_reason` (trimmed; 1 to 2000 characters, without NUL)."
          },
          "code": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 64,
            "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
            "description": "A short machine-readable reason without control characters, e.g. `recipient`."
          },
          "payload_hash": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "KeyScope": {
        "type": "string",
        "description": "A scope an API key may be given: every scope but `approvals:decide`.",
        "enum": [
          "jobs:write",
          "jobs:read",
          "approvals:read",
          "policies:admin",
          "keys:admin",
          "audit:read",
          "audit:export"
        ]
      },
      "Scope": {
        "type": "string",
        "enum": [
          "jobs:write",
          "jobs:read",
          "approvals:read",
          "approvals:decide",
          "policies:admin",
          "keys:admin",
          "audit:read",
          "audit:export"
        ]
      },
      "Task": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "workspace",
          "job_id",
          "title",
          "description",
          "due_at",
          "assignee",
          "labels",
          "created_by",
          "created_at"
        ],
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^tsk_[0-9a-hjkmnp-tv-z]{26}$"
          },
          "workspace": {
            "type": "string"
          },
          "job_id": {
            "type": "string",
            "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}$"
          },
          "title": {
            "type": "string"
          },
          "description": {
            "type": [
              "string",
              "null"
            ]
          },
          "due_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time"
          },
          "assignee": {
            "type": [
              "string",
              "null"
            ]
          },
          "labels": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "created_by": {
            "type": "string"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "TaskCreateJob": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "action",
          "params"
        ],
        "properties": {
          "action": {
            "const": "task.create"
          },
          "params": {
            "$ref": "#/components/schemas/TaskCreateParams"
          },
          "callback_url": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 2048,
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@-]*)*(?:\\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?$",
            "description": "An absolute `http` or `https` URL with a host and no user info, at most 2048 characters; every status change is POSTed there (signed, see the README). Refused (422) when the server has no `WEBHOOK_SECRET`. The server takes any URL that parses as such; the pattern describes the common subset (no percent-encoding, fragment or user info).",
            "examples": [
              "https://agent.example.com/hooks/gateapi"
            ]
          },
          "client_request_id": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[\\u0020-\\u007e]*$",
            "description": "Alias of the `Idempotency-Key` header (both given and different: 400)."
          }
        }
      },
      "TaskCreateParams": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "title"
        ],
        "description": "`task.create` params. Unknown fields are refused (422, each named); `null` is the same as an absent optional field.",
        "properties": {
          "title": {
            "type": "string",
            "minLength": 1,
            "maxLength": 500,
            "pattern": "^[^\\r\\n\\u0000]*$",
            "description": "One line."
          },
          "description": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 10000,
            "pattern": "^[^\\u0000]*$"
          },
          "due_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$",
            "description": "RFC 3339 (years 0001-9999 in UTC); stored in UTC, whole seconds."
          },
          "assignee": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[^\\r\\n\\u0000]*$"
          },
          "labels": {
            "type": [
              "array",
              "null"
            ],
            "maxItems": 20,
            "uniqueItems": true,
            "items": {
              "type": "string",
              "minLength": 1,
              "maxLength": 50,
              "pattern": "^[^\\r\\n\\u0000]*$"
            }
          }
        }
      },
      "TaskCreatePreview": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "title",
          "labels"
        ],
        "properties": {
          "title": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "due_at": {
            "type": "string",
            "format": "date-time"
          },
          "assignee": {
            "type": "string"
          },
          "labels": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "TaskCreateStoredParams": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "title"
        ],
        "description": "`task.create` params in normal form (`due_at` in UTC, whole seconds; absent fields omitted).",
        "properties": {
          "title": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "due_at": {
            "type": "string",
            "format": "date-time"
          },
          "assignee": {
            "type": "string"
          },
          "labels": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "minItems": 1
          }
        }
      },
      "TaskPage": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "items",
          "next_cursor"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Task"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ],
            "description": "The `cursor` of the next page; `null` on the last page."
          }
        }
      },
      "TaskResult": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "task_id"
        ],
        "properties": {
          "task_id": {
            "type": "string",
            "pattern": "^tsk_[0-9a-hjkmnp-tv-z]{26}$"
          }
        }
      },
      "Vote": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "reviewer",
          "decision",
          "comment",
          "payload_hash_seen",
          "created_at"
        ],
        "properties": {
          "reviewer": {
            "type": "string",
            "description": "`api_key:<id>` or `user:<sub>`."
          },
          "decision": {
            "enum": [
              "approve",
              "reject"
            ]
          },
          "comment": {
            "type": [
              "string",
              "null"
            ]
          },
          "payload_hash_seen": {
            "type": [
              "string",
              "null"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      }
    },
    "parameters": {
      "Workspace": {
        "name": "ws",
        "in": "path",
        "required": true,
        "description": "The workspace id.",
        "schema": {
          "type": "string",
          "pattern": "^[a-z0-9][a-z0-9-]{1,62}$"
        },
        "example": "acme"
      },
      "JobId": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "A job id.",
        "schema": {
          "type": "string",
          "pattern": "^job_[0-9a-hjkmnp-tv-z]{26}$"
        }
      },
      "ApprovalId": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "An approval id.",
        "schema": {
          "type": "string",
          "pattern": "^apr_[0-9a-hjkmnp-tv-z]{26}$"
        }
      },
      "WebhookSecretId": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "A webhook secret id.",
        "schema": {
          "type": "string",
          "pattern": "^whs_[a-z2-7]{16}$"
        }
      },
      "ApiKeyId": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "An API key id (the 16 characters after `gk_`).",
        "schema": {
          "type": "string",
          "pattern": "^[a-z2-7]{16}$"
        }
      },
      "PolicyAction": {
        "name": "action",
        "in": "path",
        "required": true,
        "description": "An action name.",
        "schema": {
          "type": "string",
          "enum": [
            "gmail.send",
            "task.create"
          ]
        }
      },
      "Limit": {
        "name": "limit",
        "in": "query",
        "required": false,
        "description": "Page size.",
        "schema": {
          "type": "integer",
          "minimum": 1,
          "maximum": 100,
          "default": 50
        }
      },
      "RequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "required": false,
        "description": "Your own request id, echoed back when it is 1–128 characters of `A-Z a-z 0-9 . _ -` (otherwise replaced by a random one).",
        "schema": {
          "type": "string"
        }
      }
    },
    "headers": {
      "RateLimitLimit": {
        "description": "Requests per minute of the principal's limit.",
        "required": true,
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "RateLimitLimitOptional": {
        "description": "Requests per minute of the principal's limit.",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "RateLimitPolicy": {
        "description": "e.g. `\"default\";q=600;w=60;burst=60` (`\"approvals\"` for the approvals endpoints).",
        "required": true,
        "schema": {
          "type": "string"
        }
      },
      "RateLimitPolicyOptional": {
        "description": "e.g. `\"default\";q=600;w=60;burst=60` (`\"approvals\"` for the approvals endpoints).",
        "required": false,
        "schema": {
          "type": "string"
        }
      },
      "RateLimitRemaining": {
        "description": "Requests left at once.",
        "required": true,
        "schema": {
          "type": "integer",
          "minimum": 0
        }
      },
      "RateLimitRemainingOptional": {
        "description": "Requests left at once.",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 0
        }
      },
      "RateLimitReset": {
        "description": "Seconds until the bucket is full again.",
        "required": true,
        "schema": {
          "type": "integer",
          "minimum": 0
        }
      },
      "RateLimitResetOptional": {
        "description": "Seconds until the bucket is full again.",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 0
        }
      },
      "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "required": true,
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "RetryAfterOptional": {
        "description": "Seconds to wait before retrying.",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "WWWAuthenticate": {
        "description": "`Bearer realm=\"gateapi\"`, with `error=\"invalid_token\"` when a credential was presented.",
        "required": true,
        "schema": {
          "type": "string"
        }
      },
      "XRequestId": {
        "description": "The caller's own id (1–128 characters of `A-Z a-z 0-9 . _ -`) when it sent one, a fresh random id otherwise. Also in every problem body and log line.",
        "required": true,
        "schema": {
          "type": "string",
          "pattern": "^[A-Za-z0-9._-]{1,128}$"
        }
      }
    },
    "responses": {
      "BadRequest": {
        "description": "Malformed request: invalid JSON, a wrong type, or a bad query parameter (named in `detail`, and in `errors` for the audit routes).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "RateLimit-Limit": {
            "$ref": "#/components/headers/RateLimitLimitOptional"
          },
          "RateLimit-Remaining": {
            "$ref": "#/components/headers/RateLimitRemainingOptional"
          },
          "RateLimit-Reset": {
            "$ref": "#/components/headers/RateLimitResetOptional"
          },
          "RateLimit-Policy": {
            "$ref": "#/components/headers/RateLimitPolicyOptional"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "No credential, or a bad, expired, revoked or rotated-out one. Audited (`auth.denied`).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "WWW-Authenticate": {
            "$ref": "#/components/headers/WWWAuthenticate"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "Forbidden": {
        "description": "The principal lacks the route's scope (named in `detail`), or the operation is refused for this principal. Audited.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "RateLimit-Limit": {
            "$ref": "#/components/headers/RateLimitLimitOptional"
          },
          "RateLimit-Remaining": {
            "$ref": "#/components/headers/RateLimitRemainingOptional"
          },
          "RateLimit-Reset": {
            "$ref": "#/components/headers/RateLimitResetOptional"
          },
          "RateLimit-Policy": {
            "$ref": "#/components/headers/RateLimitPolicyOptional"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "NotFound": {
        "description": "No such resource in this workspace — and the same answer when the principal is not a member of the workspace (existence is not leaked).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "RateLimit-Limit": {
            "$ref": "#/components/headers/RateLimitLimitOptional"
          },
          "RateLimit-Remaining": {
            "$ref": "#/components/headers/RateLimitRemainingOptional"
          },
          "RateLimit-Reset": {
            "$ref": "#/components/headers/RateLimitResetOptional"
          },
          "RateLimit-Policy": {
            "$ref": "#/components/headers/RateLimitPolicyOptional"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "ContentTooLarge": {
        "description": "The body is larger than `MAX_BODY_BYTES`.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "RateLimit-Limit": {
            "$ref": "#/components/headers/RateLimitLimitOptional"
          },
          "RateLimit-Remaining": {
            "$ref": "#/components/headers/RateLimitRemainingOptional"
          },
          "RateLimit-Reset": {
            "$ref": "#/components/headers/RateLimitResetOptional"
          },
          "RateLimit-Policy": {
            "$ref": "#/components/headers/RateLimitPolicyOptional"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "Unprocessable": {
        "description": "Validation failed: `errors` names every bad field.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "RateLimit-Limit": {
            "$ref": "#/components/headers/RateLimitLimitOptional"
          },
          "RateLimit-Remaining": {
            "$ref": "#/components/headers/RateLimitRemainingOptional"
          },
          "RateLimit-Reset": {
            "$ref": "#/components/headers/RateLimitResetOptional"
          },
          "RateLimit-Policy": {
            "$ref": "#/components/headers/RateLimitPolicyOptional"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "TooManyRequests": {
        "description": "The principal's or the workspace's rate limit is spent; or the client address failed authentication too often (answered before the credential is read; `RateLimit-*` then describe the address's bucket, policy `auth_failures`); or a cap on what is held open at once is reached (event streams and long-polls per principal or server, audit exports and verifications per workspace or server). `Retry-After` says when to try again.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "RateLimit-Limit": {
            "$ref": "#/components/headers/RateLimitLimit"
          },
          "RateLimit-Remaining": {
            "$ref": "#/components/headers/RateLimitRemaining"
          },
          "RateLimit-Reset": {
            "$ref": "#/components/headers/RateLimitReset"
          },
          "RateLimit-Policy": {
            "$ref": "#/components/headers/RateLimitPolicy"
          },
          "Retry-After": {
            "$ref": "#/components/headers/RetryAfter"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "ServiceUnavailable": {
        "description": "Postgres or Redis is unavailable or too slow (or a denial could not be audited); nothing was changed. Retry later.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/XRequestId"
          },
          "RateLimit-Limit": {
            "$ref": "#/components/headers/RateLimitLimitOptional"
          },
          "RateLimit-Remaining": {
            "$ref": "#/components/headers/RateLimitRemainingOptional"
          },
          "RateLimit-Reset": {
            "$ref": "#/components/headers/RateLimitResetOptional"
          },
          "RateLimit-Policy": {
            "$ref": "#/components/headers/RateLimitPolicyOptional"
          },
          "Retry-After": {
            "$ref": "#/components/headers/RetryAfterOptional"
          }
        },
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      }
    }
  }
}
"""#
}

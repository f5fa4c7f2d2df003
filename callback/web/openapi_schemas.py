"""Components of `/api/openapi.json`: shared schemas, responses and security schemes, and the
documentation of public endpoints whose views carry no YAML of their own."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid_phone"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}

_HOURS = {
    "type": "object",
    "nullable": True,
    "description": 'Spans per weekday in local time, e.g. {"mon": [["09:00", "17:00"]]}; '
    "null means no fixed hours.",
    "additionalProperties": {
        "type": "array",
        "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
    },
}
_ID = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": "string", "format": "date-time", "nullable": True}
_STRINGS = {"type": "array", "items": {"type": "string"}}

_RULE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 120},
    "strategy": {
        "type": "string",
        "enum": ["ordered", "round_robin", "longest_idle", "simultaneous", "hedged"],
    },
    "ring_timeout": {"type": "integer", "minimum": 5, "maximum": 120},
    "hedge_after": {"type": "integer", "minimum": 1, "maximum": 60},
    "simultaneous_count": {"type": "integer", "minimum": 1, "maximum": 10},
    "max_rounds": {"type": "integer", "minimum": 1, "maximum": 10},
    "customer_retry_delay": {"type": "integer", "minimum": 0, "maximum": 3600},
    "customer_max_attempts": {"type": "integer", "minimum": 1, "maximum": 5},
    "whisper_template": {
        "type": "string",
        "maxLength": 300,
        "description": "Placeholders: {page_title}, {phone} (masked)",
    },
    "require_keypress": {"type": "boolean"},
}

_WIDGET_FIELDS: dict[str, Any] = {
    "name": {"type": "string"},
    "public_key": {"type": "string"},
    "allowed_origins": _STRINGS,
    "default_region": {"type": "string", "example": "EE"},
    "allowed_countries": _STRINGS,
    "language": {"type": "string", "example": "en"},
    "texts": {
        "type": "object",
        "description": "Text overrides per language",
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "colors": {
        "type": "object",
        "properties": {"accent": {"type": "string"}, "text": {"type": "string"}},
    },
    "position": {"type": "string", "enum": ["right", "left"]},
    "triggers": {"type": "object", "description": "threshold, snooze_days and rules"},
    "hours": _HOURS,
    "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
    "time_zone": {"type": "string", "example": "Europe/Tallinn"},
    "routing_rule_id": _ID,
    "daily_call_cap": {"type": "integer"},
    "blocked_prefixes": _STRINGS,
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": ERROR,
    "Me": {
        "type": "object",
        "properties": {
            "id": _ID,
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["owner", "admin", "agent"]},
            "agent_id": {"type": "integer", "nullable": True},
            "scopes": _STRINGS,
        },
    },
    "Agent": {
        "type": "object",
        "properties": {
            "id": _ID,
            "name": {"type": "string"},
            "phone": {"type": "string", "example": "+37255550101"},
            "phone_masked": {"type": "string"},
            "active": {"type": "boolean"},
            "presence": {"type": "string", "enum": ["online", "paused", "offline"]},
            "state": {
                "type": "string",
                "enum": ["available", "ringing", "on_call", "wrap_up", "offline"],
            },
            "time_zone": {"type": "string"},
            "hours": _HOURS,
            "teams": {"type": "array", "items": {"type": "object"}},
            "created_at": _TIME,
        },
    },
    "AgentInput": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 120},
            "phone": {"type": "string", "description": "E.164, or national with `region`"},
            "region": {"type": "string", "example": "EE"},
            "active": {"type": "boolean"},
            "presence": {"type": "string", "enum": ["online", "paused", "offline"]},
            "time_zone": {"type": "string"},
            "hours": _HOURS,
            "team_ids": {"type": "array", "items": _ID},
            "rule_id": {"type": "integer", "description": "join this rule's order at the end"},
        },
    },
    "Team": {
        "type": "object",
        "properties": {
            "id": _ID,
            "name": {"type": "string"},
            "agent_ids": {"type": "array", "items": _ID},
        },
    },
    "TeamInput": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "agent_ids": {"type": "array", "items": _ID}},
    },
    "Rule": {
        "type": "object",
        "properties": {
            "id": _ID,
            **_RULE_FIELDS,
            "whisper_sample": {"type": "string"},
            "members": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "agent_id": _ID,
                        "position": _ID,
                        "name": {"type": "string"},
                        "active": {"type": "boolean"},
                    },
                },
            },
            "created_at": _TIME,
        },
    },
    "RuleInput": {
        "type": "object",
        "properties": {**_RULE_FIELDS, "agent_ids": {"type": "array", "items": _ID}},
    },
    "RouteInput": {
        "type": "object",
        "required": ["url_pattern", "rule_id"],
        "properties": {"url_pattern": {"type": "string", "example": "/product/*"}, "rule_id": _ID},
    },
    "Widget": {
        "type": "object",
        "properties": {
            "id": _ID,
            **_WIDGET_FIELDS,
            "routes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "url_pattern": {"type": "string"},
                        "rule_id": _ID,
                        "position": _ID,
                    },
                },
            },
            "created_at": _TIME,
        },
    },
    "WidgetInput": {
        "type": "object",
        "properties": {
            **_WIDGET_FIELDS,
            "routes": {"type": "array", "items": {"$ref": "#/components/schemas/RouteInput"}},
        },
    },
    "Token": {
        "type": "object",
        "properties": {
            "id": _ID,
            "user": {"type": "string"},
            "name": {"type": "string"},
            "prefix": {"type": "string", "example": "cbk_AbCdEf"},
            "scopes": _STRINGS,
            "created_at": _TIME,
            "last_used_at": _TIME_OR_NULL,
            "revoked_at": _TIME_OR_NULL,
        },
    },
    "User": {
        "type": "object",
        "properties": {
            "id": _ID,
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["owner", "admin", "agent"]},
            "active": {"type": "boolean"},
            "agent_id": {"type": "integer", "nullable": True},
            "created_at": _TIME,
            "last_login_at": _TIME_OR_NULL,
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": _error("The body is not a JSON object"),
    "Unauthorized": _error("No credentials, or an invalid or revoked token"),
    "Forbidden": _error("The token lacks the scope, the role may not do this, or CSRF failed"),
    "NotFound": _error("No such object"),
    "Invalid": _error("A field is invalid; `field` names it"),
    "RateLimited": _error("Too many requests; see Retry-After"),
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token `cbk_…` from /admin/tokens (scopes read, write)",
    },
    "cookieAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The admin pages' session; unsafe methods also need `X-CSRFToken`",
    },
}

# Public endpoints, keyed by (method, OpenAPI path): their views belong to other modules and
# carry no YAML, so their documentation lives here, next to the contract they implement.
PUBLIC_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/callbacks"): {
        "tags": ["public"],
        "summary": "Request a callback",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["widget", "phone"],
                        "properties": {
                            "widget": {"type": "string", "description": "the widget's key"},
                            "phone": {"type": "string"},
                            "page_url": {"type": "string"},
                            "page_title": {"type": "string"},
                            "scheduled_for": {"type": "string", "format": "date-time"},
                        },
                    }
                }
            },
        },
        "responses": {
            "202": {
                "description": "Accepted",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "status": {"type": "string"},
                                "token": {"type": "string"},
                                "status_url": {"type": "string"},
                            },
                        }
                    }
                },
            },
            "400": {"$ref": "#/components/responses/BadRequest"},
            "422": {"$ref": "#/components/responses/Invalid"},
            "429": {"$ref": "#/components/responses/RateLimited"},
        },
    },
    ("get", "/api/v1/callbacks/{callback_id}"): {
        "tags": ["public"],
        "summary": "A callback's status (never the phone number)",
        "parameters": [
            {"name": "callback_id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "token", "in": "query", "required": True, "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {
                "description": "The status and its events",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "status": {
                                    "type": "string",
                                    "enum": [
                                        "scheduled",
                                        "queued",
                                        "calling_agent",
                                        "agent_connected",
                                        "connected",
                                        "completed",
                                        "failed",
                                        "canceled",
                                    ],
                                },
                                "reason": {"type": "string"},
                                "eta_seconds": {"type": "integer"},
                                "agent_name": {
                                    "type": "string",
                                    "description": "The first name (only) of the agent who "
                                    "accepted the call; present in agent_connected, "
                                    "connected and completed",
                                },
                                "events": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    }
                },
            },
            "404": {"$ref": "#/components/responses/NotFound"},
        },
    },
    ("get", "/api/v1/widgets/{key}"): {
        "tags": ["public"],
        "summary": "A widget's public config: texts, look, triggers, hours, availability",
        "parameters": [
            {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "lang", "in": "query", "required": False, "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {
                "description": "The config",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "404": {"$ref": "#/components/responses/NotFound"},
        },
    },
}

"""Admin API: export and erasure of everything stored for one phone number (GDPR).

Owners and admins only: the export shows full numbers and pages visited, and erasure
cannot be undone.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from ...services import privacy
from ..errors import error_response
from .auth import MANAGER_ROLES, token_required
from .blueprints import api


@api.errorhandler(privacy.PrivacyError)
def _privacy_error(error: privacy.PrivacyError) -> Response:
    return error_response(422, error.code, error.message, error.field)


@api.get("/privacy")
@token_required("read", roles=MANAGER_ROLES)
def export_number() -> Response:
    """Everything stored for one number.
    ---
    get:
      tags: [privacy]
      summary: Export everything stored for a phone number (GDPR access request)
      parameters:
        - name: phone
          in: query
          required: true
          description: The number in international form, e.g. +3725550101
          schema: {type: string}
      responses:
        200:
          description: The callbacks of this number with their events, legs and messages
          content:
            application/json:
              schema:
                type: object
                properties:
                  phone: {type: string}
                  exported_at: {type: string}
                  callbacks: {type: array, items: {type: object}}
                  agents: {type: array, items: {type: object}}
        422: {$ref: '#/components/responses/Invalid'}
    """
    response = jsonify(privacy.export_number(request.args.get("phone")))
    response.headers["Cache-Control"] = "no-store"
    return response


@api.delete("/privacy")
@token_required("write", roles=MANAGER_ROLES)
def erase_number() -> Response:
    """Erase everything stored for one number.
    ---
    delete:
      tags: [privacy]
      summary: Erase every callback of a phone number and all stored with it (GDPR erasure)
      parameters:
        - name: phone
          in: query
          required: true
          description: The number in international form, e.g. +3725550101
          schema: {type: string}
      responses:
        200:
          description: What was deleted; agents with this number are listed, not deleted
          content:
            application/json:
              schema:
                type: object
                properties:
                  phone: {type: string}
                  callbacks_deleted: {type: integer}
                  agent_ids: {type: array, items: {type: integer}}
        422: {$ref: '#/components/responses/Invalid'}
    """
    return jsonify(privacy.erase_number(request.args.get("phone")))

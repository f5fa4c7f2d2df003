"""Admin API: widgets and their per-page routes. Managers only."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import admin_widgets
from .api_common import json_body
from .auth import MANAGER_ROLES, token_required
from .blueprints import api


@api.get("/widgets")
@token_required("read", roles=MANAGER_ROLES)
def list_widgets() -> Response:
    """Every widget.
    ---
    get:
      tags: [widgets]
      summary: List widgets
      responses:
        200:
          description: Widgets by name
          content:
            application/json:
              schema:
                type: object
                properties:
                  widgets: {type: array, items: {$ref: '#/components/schemas/Widget'}}
    """
    return jsonify({"widgets": admin_widgets.list_widgets()})


@api.post("/widgets")
@token_required("write", roles=MANAGER_ROLES)
def create_widget() -> tuple[Response, int]:
    """Create a widget.
    ---
    post:
      tags: [widgets]
      summary: Create a widget
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/WidgetInput'}
      responses:
        201:
          description: The widget
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Widget'}
    """
    return jsonify(admin_widgets.create_widget(json_body())), 201


@api.get("/widgets/<id:widget_id>")
@token_required("read", roles=MANAGER_ROLES)
def get_widget(widget_id: int) -> Response:
    """One widget.
    ---
    get:
      tags: [widgets]
      summary: Get a widget
      responses:
        200:
          description: The widget
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Widget'}
    """
    return jsonify(admin_widgets.get_widget(widget_id))


@api.patch("/widgets/<id:widget_id>")
@token_required("write", roles=MANAGER_ROLES)
def update_widget(widget_id: int) -> Response:
    """Change a widget's settings.
    ---
    patch:
      tags: [widgets]
      summary: Update a widget
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/WidgetInput'}
      responses:
        200:
          description: The widget
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Widget'}
    """
    return jsonify(admin_widgets.update_widget(widget_id, json_body()))


@api.put("/widgets/<id:widget_id>/routes")
@token_required("write", roles=MANAGER_ROLES)
def set_routes(widget_id: int) -> Response:
    """Replace the per-page routes; the first matching pattern wins.
    ---
    put:
      tags: [widgets]
      summary: Set a widget's page routes
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [routes]
              properties:
                routes: {type: array, items: {$ref: '#/components/schemas/RouteInput'}}
      responses:
        200:
          description: The widget
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Widget'}
    """
    return jsonify(admin_widgets.set_routes(widget_id, json_body()))

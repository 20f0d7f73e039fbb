"""Placeholder router (filled in by the REST API work)."""
from fastapi import APIRouter

router = APIRouter()

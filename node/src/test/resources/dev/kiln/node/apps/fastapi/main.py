"""A small FastAPI app for the snapshot benchmark: FastAPI, Starlette and Pydantic imported at
start-up (what a cold start by boot pays for and a restore skips), one JSON route."""
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Greeting(BaseModel):
    message: str
    framework: str


@app.get("/")
async def index() -> Greeting:
    return Greeting(message="Hello from Kiln", framework="fastapi")

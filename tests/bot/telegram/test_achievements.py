"""An expert's file of achievements sent as a Telegram document (issue 18)."""

from __future__ import annotations


async def test_telegram_csv_upload_registers_achievements(tg):
    expert = tg.user(2001, "张老师")
    await tg.send(
        expert,
        "我是农技站的，搞果树栽培和农产品加工，宜宾翠屏一带都能跑，电话13800000001，我叫张建国",
    )
    assert "登记成功" in "\n".join(await tg.send(expert, "确认"))
    csv = "title,kind,maturity,transfer_mode\n花椒烘干装置,装备,示范,许可\n,技术,中试,转让\n"
    out = await tg.send_document(expert, "achievements.csv", csv.encode("utf-8"))
    text = "\n".join(out)
    assert "已登记 1 项成果，1 行未导入" in text and "第 3 行：成果名称不能为空" in text
    farmer = tg.user(1001, "老王")
    found = "\n".join(await tg.send(farmer, "有没有花椒烘干的设备"))
    assert "《花椒烘干装置》" in found and "持有人：张建国" in found

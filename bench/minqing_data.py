"""Writes bench/data/minqing_reports.jsonl: a labelled set of realistic reports for the 民情分析 benchmark.

Each line: {"id", "group", "station", "village", "category", "department", "text"}. Reports with the same
`group` describe one problem in one place (duplicates of each other); other problems of the same kind in
other villages of the same station are not duplicates (the hard case). Texts are written the varied way
villagers write: colloquial openings and endings, different words for the same thing, the place named or not,
sometimes in the 普通话 of a complaint letter. Deterministic (seeded): `python -m bench.minqing_data`.
"""
import json
import pathlib
import random

OUT = pathlib.Path(__file__).with_name("data") / "minqing_reports.jsonl"

STATIONS = {"城关镇联络站": ["南塘村", "北街社区", "东关村", "西门社区"],
            "河西镇联络站": ["柳湾村", "石桥村", "河口村", "新华村"],
            "青龙乡联络站": ["青龙村", "枫树坪村", "大坪村", "龙潭村"]}

# kind: (category, department, [phrasings with {v} village and {p} spot])
PROBLEMS = {
    "road": ("traffic", "县交通运输局", [
        "{v}{p}那条水泥路坑坑洼洼的，下雨天根本没法走",
        "{p}的路烂得不成样子了，全是大坑，一下雨就积水",
        "反映一下{v}{p}道路破损严重，请有关部门修一修",
        "{v}{p}路面塌了好大一块，电动车摔了好几次了",
        "俺们{v}{p}的路坏了两年了没人管，老人孩子走路都怕",
        "{p}村道开裂，车子过去颠得要命，希望尽快修补",
    ]),
    "lamp": ("construction", "县住建局", [
        "{v}{p}的路灯坏了好几个月，晚上黑漆漆的",
        "{p}路灯不亮，晚上出门看不见路",
        "{v}{p}一排路灯都不亮了，晚上老人出门摔倒过",
        "请修一下{v}{p}的路灯，天一黑啥都看不见",
        "{p}照明坏了很久，晚上黑灯瞎火不安全",
    ]),
    "garbage": ("environment", "县生态环境局", [
        "{v}{p}垃圾堆成山了好几天没人清运，臭得很",
        "{p}的垃圾站满了没人拉走，夏天味道太难闻",
        "{v}{p}垃圾乱倒，苍蝇蚊子多，臭味熏人",
        "反映{v}{p}生活垃圾长期无人清理，气味难闻",
        "{p}垃圾桶满出来了也没人收，到处是垃圾",
    ]),
    "water": ("construction", "县水利局", [
        "{v}{p}已经停水三天了，吃水都成问题",
        "{p}这几天没水，自来水一直不来，做饭都难",
        "{v}{p}经常断水，一停就是好几天",
        "俺们{v}{p}的自来水又停了，老人没水喝",
    ]),
    "pipe": ("construction", "县水利局", [
        "{v}{p}的水管爆了，水一直往外冒",
        "{p}地下水管漏水好多天了，路上全是水",
        "{v}{p}自来水管破了在渗水，浪费得很",
    ]),
    "drain": ("construction", "县住建局", [
        "{v}{p}排水沟堵了，一下雨就淹到家门口",
        "{p}下水道堵塞，污水漫到路上，臭得很",
        "{v}{p}一到下雨天就积水，水沟没人清理",
        "反映{v}{p}排水不畅，雨天积水严重影响出行",
    ]),
    "school_traffic": ("education", "县教育局", [
        "{v}小学门口早上乱停车，孩子上学太危险",
        "{v}学校门口接送孩子的车乱停，堵得走不动",
        "每天早上{v}小学校门口车子乱停，小朋友过马路很危险",
        "希望管一管{v}学校门口的乱停车，娃娃上学不安全",
    ]),
    "noise": ("environment", "县生态环境局", [
        "{v}{p}的工地晚上十一点还在施工，吵得睡不着",
        "{p}工地夜里施工噪音太大，老人孩子睡不好",
        "{v}{p}工地天天半夜轰鸣，噪声扰民",
        "反映{v}{p}建筑工地夜间施工噪音扰民问题",
    ]),
    "bus": ("traffic", "县交通运输局", [
        "{v}到县城的班车一天就两趟，进城太不方便",
        "希望{v}多开几趟公交车，老人看病进城难",
        "{v}的公交停了，现在去县城只能坐黑车",
        "{v}没有公交，孩子去县城上学不方便",
    ]),
    "medical": ("health", "县医疗保障局", [
        "{v}的医保报销太慢了，跑了好几趟都没办好",
        "新农合报销要跑县城好几次，{v}老人办不了",
        "{v}卫生室没有医生，看个小病都要去镇上",
        "反映{v}合作医疗报销手续太麻烦",
    ]),
    "pension": ("social", "县人力资源和社会保障局", [
        "{v}老人的养老金这个月还没发，问了也没人说",
        "我父亲在{v}，养老保险一直没到账",
        "{v}有几户老人的养老金停发了，不知道啥原因",
    ]),
    "bridge": ("traffic", "县交通运输局", [
        "{v}{p}的小桥栏杆断了，孩子上学要过，太危险",
        "{p}那座石桥桥面裂了，拖拉机都不敢过",
        "{v}{p}便桥被水冲坏了，村民出行只能绕远路",
    ]),
    "farm": ("agriculture", "县农业农村局", [
        "{v}的灌溉水渠堵了，田里放不进水",
        "{v}{p}的水渠塌了，秧苗快旱死了",
        "希望修一修{v}的灌溉渠，今年种地用水难",
    ]),
    "dog": ("safety", "县公安局", [
        "{v}{p}流浪狗成群，咬伤过小孩",
        "{p}好多野狗，晚上出门害怕",
        "{v}流浪狗太多了，希望管一管",
    ]),
    "parking": ("governance", "县城市管理局", [
        "{v}{p}人行道上全是停的车，行人只能走马路",
        "{p}占道经营加上乱停车，堵得水泄不通",
        "{v}{p}商铺把摊子摆到路上，走路都难",
    ]),
}
SPOTS = ["村口", "小学旁边", "老街", "菜市场边上", "桥头", "卫生室门口", "二组", "五组"]
OPENINGS = ["", "", "", "你好，", "领导好，", "代表您好，", "我要反映个事，", "麻烦问一下，", "说个问题，"]
ENDINGS = ["", "", "。", "！", "，希望尽快解决。", "，谢谢！", "，麻烦管一管。", "，盼回复。", "，大家意见很大。"]


def _write(rng, kind, village, spot):
    text = rng.choice(PROBLEMS[kind][2]).format(v=village if rng.random() < 0.75 else "", p=spot)
    return rng.choice(OPENINGS) + text + rng.choice(ENDINGS)


def generate(seed=23, groups=130):
    rng = random.Random(seed)
    rows, group_id = [], 0
    places = [(station, village) for station, villages in STATIONS.items() for village in villages]
    for _ in range(groups):
        kind = rng.choice(list(PROBLEMS))
        station, village = rng.choice(places)
        spot = rng.choice(SPOTS)
        size = rng.choices([1, 2, 3, 4, 5, 6], weights=[30, 20, 18, 12, 12, 8])[0]
        group_id += 1
        category, department, _ = PROBLEMS[kind]
        for _ in range(size):
            rows.append({"group": group_id, "kind": kind, "station": station, "village": village,
                         "category": category, "department": department, "text": _write(rng, kind, village, spot)})
    rng.shuffle(rows)  # filed in random order: any report of a group may come first
    for i, row in enumerate(rows, 1):
        row["id"] = i
    return rows


def load():
    return [json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines() if line.strip()]


if __name__ == "__main__":
    OUT.parent.mkdir(exist_ok=True)
    data = generate()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    print(f"{len(data)} reports in {len({r['group'] for r in data})} groups -> {OUT}")

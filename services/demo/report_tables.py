"""The demo reports' data tables: proportions, fictional reporters and places, and the words
the summaries are made of (``reports.ReportGenerator`` draws from them). Data only: this
module is long because the tables are.
"""

from __future__ import annotations

from schemas.glossary import Category, Channel, MemberUnit, ReferralSource

# -- proportions -------------------------------------------------------------------------------

CHANNEL_WEIGHTS: dict[Channel, int] = {
    Channel.HOTLINE: 35,
    Channel.MAILBOX: 25,
    Channel.LETTER: 12,
    Channel.VISIT: 8,
    Channel.REFERRAL: 12,
    Channel.INTERNAL: 8,
}

# Share of real-name reporters per channel (referrals and internal clues have none).
REAL_NAME_SHARE: dict[Channel, float] = {
    Channel.HOTLINE: 0.3,
    Channel.MAILBOX: 0.35,
    Channel.LETTER: 0.45,
    Channel.VISIT: 0.9,
    Channel.REFERRAL: 0.0,
    Channel.INTERNAL: 0.0,
}

CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.SEEKING_OFFICE: 10,
    Category.BUYING_SELLING_OFFICE: 7,
    Category.PROMISING_OFFICE: 4,
    Category.VOTE_BUYING: 8,
    Category.FRAUDULENT_CREDENTIALS: 5,
    Category.PROMOTED_WHILE_TAINTED: 7,
    Category.RUSHED_PROMOTION: 5,
    Category.EXCESS_POSTS: 3,
    Category.IRREGULAR_PROCEDURE: 12,
    Category.FALSE_PERSONAL_REPORT: 9,
    Category.OTHER_CONDUCT: 20,
}

# Audits and inspections find different things than the public reports.
AUDIT_CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.OTHER_CONDUCT: 10,
    Category.FALSE_PERSONAL_REPORT: 6,
    Category.EXCESS_POSTS: 4,
    Category.IRREGULAR_PROCEDURE: 3,
}
INSPECTION_CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.IRREGULAR_PROCEDURE: 10,
    Category.EXCESS_POSTS: 6,
    Category.RUSHED_PROMOTION: 5,
    Category.FRAUDULENT_CREDENTIALS: 3,
}

REFERRAL_SOURCE_WEIGHTS: dict[ReferralSource, int] = {
    ReferralSource.MEMBER_UNIT: 40,
    ReferralSource.ECONOMIC_AUDIT: 18,
    ReferralSource.LEVEL_ABOVE: 15,
    ReferralSource.INVITED_SUPERVISOR: 10,
    ReferralSource.REGULATION_INSPECTION: 12,
    ReferralSource.LEVEL_BELOW: 5,
}

MEMBER_UNIT_WEIGHTS: dict[MemberUnit, int] = {
    MemberUnit.DISCIPLINE_COMMISSION: 35,
    MemberUnit.PETITIONS_BUREAU: 25,
    MemberUnit.AUDIT_BUREAU: 15,
    MemberUnit.PROCURATORATE: 8,
    MemberUnit.POLITICAL_LEGAL_COMMITTEE: 7,
    MemberUnit.HUMAN_RESOURCES_BUREAU: 10,
    MemberUnit.ORGANIZATION_DEPARTMENT: 5,
}

# -- fictional people --------------------------------------------------------------------------


REPORTER_NAMES: tuple[str, ...] = (
    "柏晓川", "严青禾", "季远航", "鲍春燕", "管明哲", "柯雨桐", "葛振宇", "甘秋实",
    "穆清源", "岳小满", "祁海波", "聂春雷", "卓文静", "项子墨", "翟德福", "阮秋菊",
    "褚国庆", "蓝晓玲", "车永胜", "伍桂兰", "麦志坚", "巫少华", "戚长顺", "包玉珍",
    "连海生", "芦红梅", "房立业", "裘爱民", "单春花", "杭建新",
)  # fmt: skip

VILLAGES = ("石桥村", "新塘村", "枫林村", "下河村", "杨梅坳村", "青龙村")
ESTATES = ("滨江花园", "青山名苑", "翠湖湾", "锦绣华庭", "城南新村")
PLACES = ("县城“老地方”酒楼", "镇上一家农家乐", "县城某宾馆", "单位附近的私人会所")
RELATIVES = ("其妻弟", "其侄子", "其表兄", "其女婿", "其配偶的妹妹", "其同学")
THIRD_PARTIES = ("某建筑公司负责人李某", "某砂石场老板陈某", "下属单位干部王某", "某村干部刘某")
POSTS_FOR_TOWNSHIP = ("镇长", "乡长", "党委副书记", "县直部门主要负责人")
POSTS_FOR_DEPUTY = ("局长", "党组书记", "县直单位正职", "乡镇党委书记")
POSTS_BELOW = ("股室负责人", "下属中心副主任", "站所负责人", "中层正职")
PROJECTS = ("道路硬化", "农村饮水安全", "学校改扩建", "高标准农田", "河道清淤")
MATTERS = ("不动产登记", "养老保险转移接续", "宅基地审批", "危房改造补助")

# -- summary templates -------------------------------------------------------------------------
# ``{who}`` names the first subject ("青山县财政局副局长宋立群"); in a second or third
# allegation it becomes "该同志". Every template reads after "……反映：".

TEMPLATES: dict[Category, tuple[str, ...]] = {
    Category.SEEKING_OFFICE: (
        "{who}在{when}县里酝酿乡科级干部调整前，多次到县委组织部和分管县领导处打招呼、"
        "递材料，要求提拔为{post}，并称“这次再不动就没机会了”。",
        "{who}自{when}以来频繁托在市直部门工作的同学向县领导说情，为本人谋取{post}职位，"
        "单位干部职工议论较多。",
        "{who}在单位领导班子调整酝酿期间借汇报工作之机向分管县领导提出个人职务要求，"
        "未获同意后自{when}起消极怠工、长期请假。",
    ),
    Category.BUYING_SELLING_OFFICE: (
        "{who}在{when}提拔为现职前，通过中间人向有关领导送现金{amount}，"
        "该中间人事后在饭局上公开谈及此事。",
        "{who}在{when}本单位中层干部竞争上岗中收受{third}所送{amount}及购物卡，"
        "之后该人被确定为{post_below}人选。",
        "{who}被指在{when}下属单位负责人调整时“明码标价”，有干部为获得{post_below}职位"
        "向其送红包{amount}。",
    ),
    Category.PROMISING_OFFICE: (
        "{who}在{when}年度考核前私下向多名干部承诺“投我票，年底给你解决{post_below}”，"
        "事后相关人员果然进入考察名单。",
        "{who}在{when}一次内部聚餐时向部分年轻干部许诺提拔职务，称“跟着我干的，明年都给安排"
        "位置”，造成不良影响。",
    ),
    Category.VOTE_BUYING: (
        "{who}在{election}期间，通过宴请方式为本人拉票，先后在{place}宴请代表和村（社区）"
        "干部三十余人次，并发放香烟等物品。",
        "{who}在{election}前，通过电话、微信联系部分推荐人员，请求推荐时“关照一下”，"
        "并托人给部分人员送土特产。",
        "{who}在{election}期间授意{relative}以走访慰问名义给部分代表送红包，"
        "每人{small_amount}不等。",
    ),
    Category.FRAUDULENT_CREDENTIALS: (
        "{who}干部人事档案中的出生日期存在疑点，{when}前后由“1971年”改为“1974年”，"
        "疑为规避任职年龄限制而篡改档案。",
        "{who}的在职研究生学历系花钱购买，本人从未参加面授学习，该学历在{when}提拔时"
        "被作为重要条件使用。",
        "{who}档案中入党时间、参加工作时间前后不一，疑在{when}补充材料时伪造了早年工作经历证明。",
    ),
    Category.PROMOTED_WHILE_TAINTED: (
        "{who}在原单位任职期间存在违规插手工程项目、与{third}关系密切等问题，群众早有反映，"
        "却在{when}被提拔为现职，属“带病提拔”。",
        "{who}在{when}提拔考察时已有反映其违规发放津补贴的信访件尚未办结，考察组仍作出"
        "“廉洁自律好”的结论。",
    ),
    Category.RUSHED_PROMOTION: (
        "{who}在{when}得知本人即将调离前，召开党组（党委）会一次性提拔调整{n}名中层干部，"
        "部分人选未经民主推荐。",
        "{who}在{when}到龄退出领导岗位前一个月，突击调整{n}名站所负责人，其中包括{relative}。",
    ),
    Category.EXCESS_POSTS: (
        "{who}所在的{unit}领导班子副职核定{n}名，实际配备{n_more}名，{when}仍新提拔一名副职，"
        "超职数配备问题突出。",
        "{who}所在单位以“工作需要”为由，于{when}擅自明确{n}名内设机构负责人享受副科级待遇，"
        "超出核定职数。",
    ),
    Category.IRREGULAR_PROCEDURE: (
        "{who}在{when}本单位选拔{post_below}过程中，未经民主推荐即确定考察对象，"
        "党组（党委）会讨论时到会人数不足三分之二仍作出决定。",
        "{unit}在{when}干部调整中未按规定进行任前公示，{who}主导人选酝酿“一言堂”，"
        "部分干部意见较大。",
        "{who}在{when}组织事业单位人员竞聘时临时修改报名条件，将工作年限由五年降为三年，"
        "明显为特定人员“量身定制”。",
    ),
    Category.FALSE_PERSONAL_REPORT: (
        "{who}在个人有关事项报告中未如实填报房产情况，其本人及配偶在县城{estate}小区"
        "另有住房{n}套、商铺一间。",
        "{who}的{relative_bare}在本县经营建材公司，多次承接{unit}相关项目，但该同志在"
        "{year}年度个人有关事项报告中未予报告。",
        "{who}的配偶自{when}起持有某农业开发公司股份，该同志在个人有关事项报告中未填报投资情况。",
    ),
    Category.OTHER_CONDUCT: (
        "{who}经常在工作日中午饮酒，{when}曾酒后驾驶公务车辆，群众反映强烈。",
        "{who}违规接受管理服务对象宴请，{when}多次到{place}参加由企业老板安排的聚餐。",
        "{who}在办理群众事项时推诿扯皮，{when}一起{matter}事项拖延三个月未办理。",
        "{who}为{relative}经营的公司承揽辖区{project}工程提供便利，工程质量存在问题。",
        "{who}于{when}操办其子婚宴，在县城酒店设宴四十余桌，收受下属及管理服务对象礼金。",
    ),
}

CLOSINGS = (
    "请组织上予以调查核实。",
    "希望组织认真核查，严肃处理。",
    "此前曾向有关部门反映，至今未见处理结果。",
    "知情人较多，可向该单位干部了解。",
    "",
    "",
)

CHANNEL_OPENERS: dict[Channel, tuple[str, ...]] = {
    Channel.HOTLINE: ("来电反映：", "来电人反映："),
    Channel.MAILBOX: ("网上举报反映：", "反映："),
    Channel.LETTER: ("来信反映：",),
    Channel.VISIT: ("来访人反映：",),
}

INTERNAL_OPENERS = (
    "{year}年度综合考核个别谈话中，有干部反映：",
    "在对{unit}开展选人用人工作专项检查时发现：",
    "{unit}领导班子民主生活会征求意见中，有干部群众反映：",
    "干部考察谈话中，有谈话对象反映：",
    "{year}年选人用人工作“一报告两评议”问卷中，有干部反映：",
)

MEMBER_UNIT_REFERRALS: dict[MemberUnit, tuple[str, str]] = {
    MemberUnit.DISCIPLINE_COMMISSION: ("县纪委监委转来信访件，反映：", "青纪信转"),
    MemberUnit.PETITIONS_BUREAU: ("县信访局转来群众来信，反映：", "青信转"),
    MemberUnit.AUDIT_BUREAU: ("县审计局移送问题线索：", "青审移"),
    MemberUnit.PROCURATORATE: ("县人民检察院在办案中发现并移送线索：", "青检移"),
    MemberUnit.POLITICAL_LEGAL_COMMITTEE: ("县委政法委转来线索，反映：", "青政法转"),
    MemberUnit.HUMAN_RESOURCES_BUREAU: ("县人社局在事业单位人事管理检查中发现：", "青人社函"),
    MemberUnit.ORGANIZATION_DEPARTMENT: ("市委组织部转来线索：", "市组转"),
}

SOURCE_REFERRALS: dict[ReferralSource, tuple[str, str]] = {
    ReferralSource.LEVEL_ABOVE: ("市委组织部12380举报受理中心转来举报件，反映：", "市组12380转"),
    ReferralSource.LEVEL_BELOW: ("{town}党委报送群众反映：", "党报"),
    ReferralSource.INVITED_SUPERVISOR: ("县委组织部特邀监督员反映：", "特监"),
    ReferralSource.ECONOMIC_AUDIT: (
        "县审计局在对{unit}主要负责人开展经济责任审计中发现：",
        "青审经责移",
    ),
    ReferralSource.REGULATION_INSPECTION: (
        "县委选人用人工作检查组在对{unit}开展条例执行情况检查中发现：",
        "青组检移",
    ),
}

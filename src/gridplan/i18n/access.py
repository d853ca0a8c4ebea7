"""Texts of capacity analyses (gridplan.access), in Chinese and English."""

from gridplan.i18n.catalogue import Catalogue

MESSAGES: Catalogue = {
    # --- the seeds' standards (gridplan.access.standards) -------------------------------
    "standard.source": {"zh": "seed {seed}：{quote}", "en": "seed {seed}: {quote}"},
    "standard.coverage_15": {"zh": "15分钟可达覆盖率", "en": "Share within 15 minutes"},
    "standard.coverage_15.seed": {
        "zh": "日照市：到2025年全面建成15分钟健康服务圈",
        "en": "Rizhao: a complete 15-minute health service circle by 2025",
    },
    "standard.residents_per_centre": {
        "zh": "每个社区卫生服务中心/乡镇卫生院服务人口",
        "en": "Residents per community/township centre",
    },
    "standard.residents_per_centre.seed": {
        "zh": "郑州市：每个街道或每3–10万居民设置1所社区卫生服务中心",
        "en": "Zhengzhou: one community health centre per street or per 30,000–100,000 residents",
    },
    "standard.centres_per_township": {
        "zh": "每个乡镇（街道）的中心数",
        "en": "Centres per township",
    },
    "standard.centres_per_township.seed": {
        "zh": "郑州市：每个乡镇办好1所标准化乡镇卫生院",
        "en": "Zhengzhou: one standardised township health centre in every township",
    },
    "standard.beds_per_1000": {
        "zh": "基层医疗机构每千人口床位",
        "en": "Primary-care beds per 1,000",
    },
    "standard.beds_per_1000.seed": {
        "zh": "郑州市：基层医疗卫生机构千人口床位数达1.2张以上",
        "en": "Zhengzhou: more than 1.2 primary-care beds per 1,000 residents",
    },
    "standard.gps_per_10000": {
        "zh": "每万居民全科医生数",
        "en": "GPs per 10,000 residents",
    },
    "standard.gps_per_10000.seed": {
        "zh": "郑州市：每万名居民拥有2名以上全科医生",
        "en": "Zhengzhou: more than 2 GPs per 10,000 residents",
    },
    "standard.gps_per_10000_rizhao": {
        "zh": "每万居民全科医生数（日照目标）",
        "en": "GPs per 10,000 residents (Rizhao target)",
    },
    "standard.gps_per_10000_rizhao.seed": {
        "zh": "日照市：每万居民4.8名全科医生",
        "en": "Rizhao: 4.8 GPs per 10,000 residents",
    },
    # --- the rules of facility capacities (gridplan.access.capacity.CAPACITY_RULES) ------
    "capacity_source.column": {
        "zh": "表中给出的服务能力",
        "en": "capacity given in the table",
    },
    "capacity_source.gps": {
        "zh": "全科医生数 × 每名全科医生服务人口（日照：每万人 4.8 名全科医生）",
        "en": "GPs × residents per GP (Rizhao: 4.8 GPs per 10,000 residents)",
    },
    "capacity_source.doctors": {
        "zh": "医生数 × 每名医生服务人口（给定参数）",
        "en": "doctors × residents per doctor (given ratio)",
    },
    "capacity_source.type_default": {
        "zh": "按机构类型的假定服务人口（假定值）",
        "en": "assumed residents per facility of its type (assumed)",
    },
    # --- capacity-aware accessibility (gridplan.access.capacity) ----------------------------
    # "capacity.invalid" is raised; the others render its params["problems"] one by one.
    "capacity.network": {
        "zh": "道路网络模型需要先加载道路网络。",
        "en": "The road-network model needs a loaded road network.",
    },
    "capacity.invalid": {
        "zh": "无法进行考虑服务能力的可达性分析：输入有 {n} 处问题。",
        "en": "Cannot run the capacity-aware accessibility analysis: {n} problem(s) with the inputs.",
    },
    "capacity.shape": {
        "zh": "{name} 的大小为 {shape}，应与格网一致：{expected}。",
        "en": "{name} has shape {shape}; expected the grid's {expected}.",
    },
    "capacity.threshold": {
        "zh": "{name} 须为大于 0 的有限分钟数，当前为 {value}。",
        "en": "{name} must be a finite number of minutes above 0, got {value}.",
    },
    "capacity.beyond_reach": {
        "zh": "{name} = {value} 分钟，超过了已计算的出行时间范围 {max_minutes} 分钟。请用更大的时间上限重新计算。",
        "en": "{name} = {value} min is beyond the {max_minutes} min the travel times were computed for. Recompute them with a larger limit.",
    },
    "capacity.not_numeric": {
        "zh": "{name} 必须是数值。",
        "en": "{name} must be numbers.",
    },
    "capacity.length": {
        "zh": "{name} 有 {n} 个值，应为每个机构一个（共 {expected} 个）。",
        "en": "{name} has {n} value(s); expected one per facility ({expected}).",
    },
    "capacity.nonfinite": {
        "zh": "{name} 中有 {n} 个值不是有效数值。",
        "en": "{name}: {n} value(s) are not valid numbers.",
    },
    "capacity.negative": {
        "zh": "{name} 中有 {n} 个值为负数。",
        "en": "{name}: {n} value(s) are negative.",
    },
    "capacity.n_facilities": {
        "zh": "机构数须为不小于 0 的整数，当前为 {value}。",
        "en": "The number of facilities must be a whole number ≥ 0, got {value}.",
    },
    "capacity.pairs_length": {
        "zh": "格子、机构和出行时间的数量不一致：{lengths}。",
        "en": "Cells, facilities and travel times differ in length: {lengths}.",
    },
    "capacity.pairs_index": {
        "zh": "{name} 必须是整数编号，当前类型为 {dtype}。",
        "en": "{name} must hold integer indices, got {dtype}.",
    },
    "capacity.pairs_cell": {
        "zh": "{n} 个格子编号超出格网范围（共 {size} 个格子）。",
        "en": "{n} cell index(es) lie outside the grid ({size} cells).",
    },
    "capacity.pairs_facility": {
        "zh": "{n} 个机构编号超出范围（共 {n_facilities} 个机构）。",
        "en": "{n} facility index(es) are out of range ({n_facilities} facilities).",
    },
    "capacity.pairs_minutes": {
        "zh": "{n} 个出行时间为负数或不是有效数值。",
        "en": "{n} travel time(s) are negative or not finite.",
    },
    "capacity.pairs_duplicate": {
        "zh": "有 {n} 个（格子，机构）组合重复出现。",
        "en": "{n} (cell, facility) pair(s) are given more than once.",
    },
    "capacity.model": {
        "zh": "出行时间模型须为 {allowed} 之一，当前为 {value}。",
        "en": "The travel-time model must be one of {allowed}, got {value}.",
    },
    "capacity.xy_shape": {
        "zh": "机构坐标须为 (x, y) 数值坐标对。",
        "en": "Facility coordinates must be (x, y) pairs of numbers.",
    },
    "capacity.xy_nonfinite": {
        "zh": "{n} 个机构的坐标不是有效数值（第 {indices} 行）。",
        "en": "{n} facility coordinate(s) are not valid numbers (rows {indices}).",
    },
    "capacity.ratio": {
        "zh": "{name} 须为正数，当前为 {value}。",
        "en": "{name} must be a positive number, got {value}.",
    },
    "capacity.column_missing": {
        "zh": "机构表中没有 {column} 列。现有列：{columns}",
        "en": "The facility table has no {column} column. Columns: {columns}",
    },
    "capacity.no_capacity": {
        "zh": "{n} 个机构既没有服务能力、人员数，也没有其类型（{types}）的默认值。请在表中补充服务能力。",
        "en": "{n} facilit(y/ies) have no capacity, staff count or default for their type ({types}). Add a capacity column.",
    },
    "capacity.missing_supply": {
        "zh": "{column} 列中有 {n} 个机构没有数值。请补全，或指定缺失时使用的数值。",
        "en": "{column}: {n} facilit(y/ies) have no value. Fill them in or say which value to use.",
    },
    "capacity.grid_mismatch": {
        "zh": "出行时间与人口分布不在同一格网上。",
        "en": "The travel times and the population surface are on different grids.",
    },
    "capacity.order": {
        "zh": "处理顺序须恰好列出每个机构一次（共 {n} 个机构）。",
        "en": "The processing order must list every facility exactly once ({n} facilities).",
    },
}

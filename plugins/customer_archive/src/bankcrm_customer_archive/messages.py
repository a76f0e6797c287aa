"""Chinese for the archive's messages (``register_message_translations``): what a clerk
reads when a form, an import row or a request is refused."""

from __future__ import annotations

TRANSLATIONS: list[tuple[str, str]] = [
    (r"not a valid resident ID number \(GB 11643\)", "不是有效的居民身份证号码（GB 11643）"),
    (r"not a valid unified social credit code", "不是有效的统一社会信用代码"),
    (r"a passport number is 5 to 17 letters or digits", "护照号码应为 5 到 17 位字母或数字"),
    (r"a corporate customer is identified by its uscc", "对公客户应使用统一社会信用代码"),
    (r"an individual cannot be identified by a uscc", "个人客户不能使用统一社会信用代码"),
    (
        r"differs from the (date|birth date) in the (resident )?ID number.*",
        "与身份证号码中的出生日期不一致",
    ),
    (r"differs from the ID number's .*", "与身份证号码中的出生日期不一致"),
    (r"differs from the gender in the (resident )?ID number", "与身份证号码中的性别不一致"),
    (r"not a mainland mobile .*", "不是有效的手机号码（11 位，以 13–19 开头）或固定电话"),
    (r"not an e-mail address", "不是有效的电子邮箱地址"),
    (r"must not lie in the future", "不能晚于今天"),
    (r"must lie after 1900-01-01", "不能早于 1900-01-01"),
    (r"must lie between 1900-01-01 and today", "应在 1900-01-01 到今天之间"),
    (r"at most two decimal places", "最多两位小数"),
    (r"must be a number", "应为数字"),
    (r"must lie between 0 and (?P<n>\S+)", "应在 0 到 {n} 之间"),
    (r"longer than (?P<n>\d+) characters", "超过 {n} 个字符"),
    (r"not a known (?P<what>.+)", "不是可识别的值（{what}）"),
    (r"no active user has this username", "没有这个在用的用户名"),
    (r"a postcode is 6 digits", "邮编应为 6 位数字"),
    (r"required when an address is given", "填写地址时必填"),
    (r"a tag has at most 32 characters and is no formula", "标签最多 32 个字符，且不能是公式"),
    (r"no product with this code", "没有这个产品代码"),
    (r"a currency is 3 letters .*", "币种应为 3 位字母（如 CNY、USD）"),
    (r"an account number is 6 to 32 letters or digits", "账号应为 6 到 32 位字母或数字"),
    (r"only corporate customers have this", "只有对公客户才有此项"),
    (r"a corporate customer has no gender or birth date", "对公客户没有性别和出生日期"),
    (r"contains the control character (?P<c>U\+[0-9A-F]+)", "含有控制字符 {c}"),
    (r"no such customer visible to you", "没有您可见的这个客户"),
    (r"no such tag in the customer's branch", "客户所属机构没有这个标签"),
    (r"your own upload", "不能复核自己上传的文件"),
    # Imports of real exports: managers, branches and one-column addresses.
    (
        r"no employee or user has this name, employee number or username: imported without"
        r" a relationship manager",
        "没有这个姓名、工号或用户名的员工：导入后暂无客户经理",
    ),
    (r"(?P<b>\S+ \S+): the branch is outside your scope", "{b}：该机构不在您的权限范围内"),
    (
        r"(?P<b>\S+ \S+): not the import's branch or one of its sub-branches",
        "{b}：不是本次导入的机构或其下属机构",
    ),
    (
        r"no branch has this code or name .*",
        "没有这个机构代码或名称的机构（请填写机构代码，如 BJ-HD，或机构全称）",
    ),
    (
        r"no province, city or district at the start of the address .*",
        "地址开头没有省、市或区县（请写成：广东省深圳市南山区科技园路1号）",
    ),
    (
        r"no city after the province in the address .*",
        "地址中省份后面没有城市（请写成：广东省深圳市南山区……）",
    ),
    (r"the address has no street or house number after the district", "地址中区县后面没有街道门牌"),
    (
        r"(?P<d>\S+) is a district of several cities \((?P<c>.+)\): write the province and"
        r" city in front of it",
        "{d} 在多个城市都有（{c}）：请在前面写上省和市",
    ),
    (r"differs from the address, which says (?P<p>.+)", "与地址中的“{p}”不一致"),
]

__all__ = ["TRANSLATIONS"]

"""Admin screens (piccolo-admin, rendered by the kernel) with Chinese and English labels.

The REST API is the primary way to change customers: it validates identity documents
and phones, derives pinyin, encrypts ID numbers and rewrites the search keys. In the admin
the columns those depend on (name, phone, identity) are read-only, and so are the keys
that tie a row to its customer and branch (moving them would break the rule that a child
row lives in its customer's branch). Customers are not created in the admin at all (the
ID number must be encrypted and hashed), the ciphertext and lookup hash are never shown,
and opening or exporting a customer is audited as the REST API audits it.
"""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_customer_archive.access import (
    CUSTOMER_EXPORT,
    CUSTOMER_READ,
    HOLDING_READ,
)
from bankcrm_customer_archive.admin_labels import GROUP, labels
from bankcrm_customer_archive.records import ENTITY_CUSTOMER
from bankcrm_customer_archive.tables import (
    Customer,
    CustomerAddress,
    CustomerContact,
    Holding,
)

CUSTOMER_SCREEN = AdminScreen(
    table=Customer,
    title=Label("客户", "Customers"),
    permission=CUSTOMER_READ,
    row_page="/app/customer_archive/customers/{id}",
    row_page_title=Label("360°视图", "360° view"),
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "created_at", "updated_at"),
        kind=("客户类型", "Kind"),
        name=("客户名称", "Name"),
        name_pinyin=("名称拼音", "Name (pinyin)"),
        name_initials=("拼音首字母", "Pinyin initials"),
        gender=("性别", "Gender"),
        birth_date=("出生日期", "Date of birth"),
        id_type=("证件类型", "ID type"),
        id_number_masked=("证件号码", "ID number"),
        phone=("手机/电话", "Phone"),
        email=("电子邮箱", "E-mail"),
        occupation=("职业", "Occupation"),
        employer=("工作单位", "Employer"),
        industry=("行业", "Industry"),
        relationship_manager=("客户经理", "Relationship manager"),
        status=("状态", "Status"),
        deleted_at=("删除时间", "Deleted at"),
        education=("学历", "Education"),
        income_band=("年收入区间", "Income band"),
        marital_status=("婚姻状况", "Marital status"),
        company_size=("企业规模", "Company size"),
        registered_capital=("注册资本(元)", "Registered capital (CNY)"),
        established_on=("成立日期", "Established on"),
        credit_grade=("信用等级", "Credit grade"),
        risk_tolerance=("风险承受能力", "Risk tolerance"),
        value_tier=("价值分层", "Value tier"),
        last_activity_at=("最近活动时间", "Last activity at"),
    ),
    visible_columns=(
        "id", "name", "kind", "id_type", "id_number_masked", "phone", "branch_id",
        "relationship_manager", "status", "updated_at",
    ),
    visible_filters=("name", "name_pinyin", "kind", "branch_id", "relationship_manager", "status"),
    read_only_columns=(
        "branch_id", "kind", "name", "name_pinyin", "name_initials", "id_type",
        "id_number_masked", "phone", "created_at",
        "updated_at", "deleted_at",
        # Ratings change through POST /customers/{id}/ratings, which keeps their history;
        # background fields through the REST API, which refuses those of the other kind.
        "credit_grade", "risk_tolerance", "value_tier", "last_activity_at", "education",
        "income_band", "marital_status", "company_size", "registered_capital", "established_on",
        # Derived and system figures: AUM from the holdings, the import and merge links.
        "aum_cents", "import_batch_id", "merged_into",
    ),
    masked_columns=("id_number_masked", "phone", "email"),
    hidden_columns=("id_number_encrypted", "id_number_hash"),
    menu_group=GROUP,
    audit_reads=ENTITY_CUSTOMER,
    # Only the REST API and the import validate, encrypt and hash the ID number.
    allow_create=False,
)  # fmt: skip

ADDRESS_SCREEN = AdminScreen(
    table=CustomerAddress,
    title=Label("客户地址", "Customer addresses"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "customer", "created_at", "updated_at"),
        kind=("地址类型", "Kind"),
        province=("省", "Province"),
        city=("市", "City"),
        district=("区县", "District"),
        street=("详细地址", "Street address"),
        postcode=("邮政编码", "Postcode"),
        is_primary=("主地址", "Primary"),
    ),
    visible_columns=("id", "customer", "kind", "province", "city", "district", "street",
                     "is_primary"),
    visible_filters=("customer", "kind", "province", "city", "branch_id"),
    read_only_columns=("branch_id", "customer", "created_at", "updated_at"),
    masked_columns=("street",),
    menu_group=GROUP,
)  # fmt: skip

CONTACT_SCREEN = AdminScreen(
    table=CustomerContact,
    title=Label("联系人", "Contact persons"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "customer", "created_at", "updated_at"),
        name=("姓名", "Name"),
        title=("职务", "Title"),
        phone=("电话", "Phone"),
        email=("电子邮箱", "E-mail"),
        is_primary=("主联系人", "Primary"),
    ),
    visible_columns=("id", "customer", "name", "title", "phone", "is_primary"),
    visible_filters=("customer", "name", "branch_id"),
    read_only_columns=("branch_id", "customer", "created_at", "updated_at"),
    masked_columns=("phone", "email"),
    menu_group=GROUP,
)

HOLDING_SCREEN = AdminScreen(
    table=Holding,
    title=Label("产品持有", "Holdings"),
    permission=HOLDING_READ,
    columns=labels(
        ("id", "branch_id", "customer", "created_at", "updated_at"),
        product=("产品", "Product"),
        account_no=("账号/卡号", "Account or card number"),
        balance=("余额", "Balance"),
        currency=("币种", "Currency"),
        opened_on=("开户日期", "Opened on"),
        status=("状态", "Status"),
    ),
    visible_columns=("id", "customer", "product", "account_no", "balance", "currency",
                     "opened_on", "status"),
    visible_filters=("customer", "product", "status", "branch_id"),
    # The product of an account is set when it is opened (the API takes no change of it).
    read_only_columns=(
        "branch_id", "customer", "product", "account_no", "created_at", "updated_at",
    ),
    masked_columns=("account_no",),
    menu_group=GROUP,
)  # fmt: skip

"""REST routes of the surveys (市场调查), mounted under ``/api/v1/marketing``: staff routes
behind the kernel's guards, and the two public routes a respondent uses without a login
(``/public/surveys/{survey_code}``), rate-limited per client address."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_marketing import access, surveys
from bankcrm_marketing.ratelimit import SlidingWindow

READ = {"permission": access.SURVEY_READ}
WRITE = {"permission": access.SURVEY_WRITE, "problems": (409,)}

LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]
StatusQuery = Annotated[Literal["draft", "active", "closed"] | None, QueryParameter()]
PurposeQuery = Annotated[Literal["research", "satisfaction"] | None, QueryParameter()]
InvitationStatusQuery = Annotated[
    Literal["queued", "sent", "skipped", "failed"] | None, QueryParameter()
]
VersionQuery = Annotated[
    int | None, QueryParameter(ge=1, le=2**31 - 1, description="Default: the current one")
]
CodePath = FromPath[str]

READS = SlidingWindow(limit=60, seconds=60)
"""Questionnaires opened per client address and minute."""
WRITES = SlidingWindow(limit=10, seconds=60)
"""Answers sent per client address and minute."""


class SurveyController(Controller):
    path = "/surveys"
    tags = ("marketing: surveys",)

    @get("/", opt=READ)
    async def list_surveys(
        self,
        status: StatusQuery = None,
        purpose: PurposeQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[surveys.SurveyOut]:
        check_limit(limit)
        return await surveys.list_surveys(
            status=status, purpose=purpose, limit=limit, cursor=cursor
        )

    @post("/", opt=WRITE)
    async def create(self, data: JSONBody[surveys.SurveyIn]) -> surveys.SurveyOut:
        """A draft survey (market research or satisfaction) with its first questions."""
        return await surveys.create_survey(data)

    @get("/{survey_id:int}", opt=READ)
    async def detail(self, survey_id: FromPath[int]) -> surveys.SurveyOut:
        return await surveys.get_survey(survey_id)

    @patch("/{survey_id:int}", opt=WRITE)
    async def update(
        self, survey_id: FromPath[int], data: JSONBody[surveys.SurveyPatch]
    ) -> surveys.SurveyOut:
        """Title, description; open (``active``) or close it; give it a public link or
        take the link away."""
        return await surveys.update_survey(survey_id, data)

    @put("/{survey_id:int}/questionnaire", opt=WRITE)
    async def questionnaire(
        self, survey_id: FromPath[int], data: JSONBody[surveys.QuestionnaireIn]
    ) -> surveys.SurveyOut:
        """Replace the questions; a version with responses is frozen, so they become the
        next version."""
        return await surveys.save_questionnaire(survey_id, data)

    @post("/{survey_id:int}/distributions", opt=WRITE, status_code=200)
    async def distribute(
        self, survey_id: FromPath[int], data: JSONBody[surveys.DistributionIn]
    ) -> surveys.DistributionOut:
        """Invite the customers of a target (the archive's filter or a segment) by SMS,
        e-mail or WeChat, each with a personal link; do-not-contact respected."""
        return await surveys.distribute(survey_id, data)

    @get("/{survey_id:int}/invitations", opt=READ)
    async def invitations(
        self,
        survey_id: FromPath[int],
        status: InvitationStatusQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[surveys.InvitationOut]:
        check_limit(limit)
        return await surveys.list_invitations(survey_id, status=status, limit=limit, cursor=cursor)

    @get("/{survey_id:int}/responses", opt=READ)
    async def responses(
        self,
        survey_id: FromPath[int],
        version: VersionQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[surveys.ResponseOut]:
        check_limit(limit)
        return await surveys.list_responses(survey_id, version=version, limit=limit, cursor=cursor)

    @post(
        "/{survey_id:int}/responses",
        opt={**WRITE, "location": "/api/v1/marketing/survey-responses/{id}"},
    )
    async def record_response(
        self, survey_id: FromPath[int], data: JSONBody[surveys.StaffResponseIn]
    ) -> surveys.ResponseOut:
        """Answers taken by staff (by telephone or at the counter)."""
        return await surveys.record_staff_response(survey_id, data)

    @get("/{survey_id:int}/analysis", opt=READ)
    async def analysis(
        self, survey_id: FromPath[int], version: VersionQuery = None
    ) -> surveys.SurveyAnalysis:
        """Per question, chart-ready: option counts and percentages, a scale's mean and
        distribution, the latest free-text answers."""
        return await surveys.analysis(survey_id, version)


@get("/survey-invitations/{invitation_id:int}", opt=READ, tags=["marketing: surveys"])
async def invitation(invitation_id: FromPath[int]) -> surveys.InvitationOut:
    return await surveys.get_invitation(invitation_id)


@get("/survey-responses/{response_id:int}", opt=READ, tags=["marketing: surveys"])
async def response(response_id: FromPath[int]) -> surveys.ResponseOut:
    return await surveys.get_response(response_id)


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@get(
    "/public/surveys/{survey_code:str}",
    opt={"public": True, "problems": (429,)},
    tags=["marketing: public surveys"],
)
async def public_survey(
    request: Request[Any, Any, Any], survey_code: CodePath
) -> surveys.PublicSurvey:
    """The questionnaire a survey's public link or a personal invitation opens (no
    login). Unknown codes and surveys not taking responses are 404."""
    READS.check(_address(request))
    return await surveys.public_survey(survey_code)


@post(
    "/public/surveys/{survey_code:str}/responses",
    opt={"public": True, "problems": (409, 429)},
    status_code=200,
    tags=["marketing: public surveys"],
)
async def public_answers(
    request: Request[Any, Any, Any], survey_code: CodePath, data: JSONBody[surveys.AnswersIn]
) -> surveys.Submitted:
    """Answer the survey (no login): every shown question answered as its kind allows,
    none that skip logic hides; a refusal (422) names the question (``body.answers.q2``).
    A personal invitation is answered once (409 after)."""
    WRITES.check(_address(request))
    return await surveys.submit_public(survey_code, data)


ROUTES: list[Any] = [SurveyController, invitation, response, public_survey, public_answers]

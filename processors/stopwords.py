"""Stopwords: the function words kept out of a text's top words, per language, and a guess of the
language from them (the language whose function words make up most of the text).

Small lists written for this project: the most frequent function words of each language, lower
case, as :func:`processors.words.tokens` yields them (Chinese as jieba segments it).
"""
from __future__ import annotations

from collections.abc import Mapping

_LISTS = {
    "English": """a about above after again against all also am an and any are as at be because been before
        being below between both but by can could did do does doing down during each few for from further had
        has have having he her here hers herself him himself his how i if in into is it its itself just me more
        most my myself no nor not now of off on once only or other our ours ourselves out over own same she
        should so some such than that the their theirs them themselves then there these they this those through
        to too under until up very was we were what when where which while who whom why will with would you
        your yours yourself yourselves i'm it's don't can't won't isn't didn't doesn't there's that's let's""",
    "Chinese": """的 了 是 在 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 他 她 它
        们 我们 你们 他们 她们 这个 那 那个 之 与 及 等 而 或 被 把 让 给 从 对 为 以 于 并 但 如果 因为 所以 可以
        这些 那些 什么 怎么 吗 呢 吧 啊 还 又 再 已经 将 其 中 其中 个 地 得 来 过 能 这样 这是 就是 还是 因此 而且
        但是 然后 没 各 每 此 该 由 向 却 只 者 所 其他 一些 时 后 前 里 下 年 月 日""",
    "French": """a au aux avec ce ces cette dans de des du elle elles en est et eux il ils je la le les leur
        leurs lui ma mais me mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son sont
        sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y été être avoir ont était comme plus
        tout tous très sans aussi bien fait peut si à là ça qu'il qu'elle c'est n'est d'un d'une l'on j'ai s'il""",
    "German": """aber alle als also am an auch auf aus bei bin bis da damit dann das dass dem den der des die
        dies diese dieser doch du durch ein eine einem einen einer eines er es für hat hatte ich ihr im in ist
        ja kann kein mit nach nicht noch nur ob oder sich sie sind so über um und uns von vor war wie wir wird
        wo zu zum zur wenn werden wurde hier man mehr sein seine schon""",
    "Spanish": """a al algo como con de del el ella ellas ellos en entre era es esta está este esto fue ha hay la
        las le les lo los más me mi muy no nos o para pero por que qué se sin sobre su sus también te tu un una
        uno y ya yo han ser son todo todos cuando donde desde porque este esa ese""",
    "Portuguese": """a ao aos as com como da das de do dos e ela elas ele eles em entre era essa esse está eu foi
        há isso já mais mas me meu minha muito na nas não no nos o os ou para pela pelo por que quando se sem
        ser seu sua são também te um uma você foram tem ter todo todos""",
    "Italian": """a ad al alla alle anche che ci come con da dal dalla dei del della delle di e è ed gli ha hanno
        i il in io la le lei li lo loro lui ma mi ne nei nel nella non o per più questo questa quello se si
        sono su sua suo tra tu un una uno anche essere stato molto ci""",
    "Dutch": """aan al als bij dat de den der die dit door een en er had heb heeft het hij hoe hun ik in is je
        kan maar me men met mij naar niet nog of om ons ook op over te tot u uit van voor was wat we wel werd
        wij worden zal ze zei zich zij zijn zo""",
    "Russian": """а без бы был была были было в вам вас весь во вот все всё вы где да для до его ее её если есть
        еще ещё же за и из или им их к как когда кто ли мне мы на над не него нет ни но о об он она они оно от
        по под при с со так также там то тоже только ты у уже что это этот я""",
    "Polish": """a aby ale bo by być był była było co czy dla do go i ich ja jak jako jest jego jej już lub ma mi
        na nie niż o od oraz po pod przez przy się są ta tak także te ten to tu w we z za że żeby""",
    "Turkish": """ama ancak bir biz bu çok da daha de diye en gibi hem her için ile ise kadar ki mi mu nasıl ne
        o olan olarak olduğu ona onlar onu sen şey şu ve veya ya yani""",
    "Ukrainian": """а або але б без би був була були було в вже від він вона вони воно все де для до є же з за
        і й їх к коли ми на не нема ні о по під при про та так також те то ти тільки у це цей що щоб я як""",
    "Czech": """a aby ale ani by byl byla bylo být co do i jak jako je jeho její jen jsem jsou k kde když
        která které který mezi na nebo než o od po pod pro s se si také tak to tu už v ve z za že""",
    "Hungarian": """a az azt be csak de egy egyik el én és ez ezt fel hogy is itt ki le meg mert mi mint
        nagyon nem nincs pedig már még most ő ők sem volt van vagy voltak lesz""",
    "Romanian": """a acest această al ale am ca care ce cu cum de din după e el ea ei este fi fost în
        la le mai mult ne nu o pe pentru prin sa să se si și sunt un una unei unui""",
    "Greek": """αλλά από για δεν η θα και με μια να ο οι που σε στη στην στο στον στα στις τα την της
        τη το τον των τους ένα είναι ήταν ως ή όπως αυτό αυτή""",
    "Danish": """af alle at blev da de den denne der det dig du efter eller en er et for fra han har hun
        hvad hvis i ikke jeg kan med men mig min når og om op på som til var vi være""",
    "Norwegian": """av alle at da de den denne der det du eller en er et etter for fra han har hun hva
        hvis i ikke jeg kan med men meg min når og om opp på som til var vi være""",
    "Finnish": """ei en eli että hän he ja jo joka jos kanssa kuin kun me mikä mitä mutta myös ne niin
        nyt oli olla on ovat se sen siinä tai te tämä vain voi""",
    "Indonesian": """ada adalah akan atau bahwa bisa dalam dan dari dengan di ini itu juga ke karena
        kami kita mereka oleh pada saya sebagai sudah tidak untuk yang""",
    "Swedish": """att av de den det detta du efter en ett för från har hon i inte jag kan man med men mot
        någon när och om på sig sin som till under upp ut var vi vid är än""",
}

STOPWORDS: Mapping[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in _LISTS.items()}
# share of a text's words its language's function words make up, at least, to name that language;
# a second language must make up more with words the first does not have ("a", "door" in English)
MIN_SHARE = 0.05
MIN_SECOND_SHARE = 0.1


def languages(counts: Mapping[str, int]) -> list[str]:
    """The languages whose stopwords make up a telling share of ``counts`` (word -> occurrences),
    the largest share first: a text's language, and the others it quotes at length."""
    total = sum(counts.values())
    found: list[str] = []
    taken: frozenset[str] = frozenset()
    while total:
        shares = {lang: sum(counts.get(w, 0) for w in words - taken) / total
                  for lang, words in STOPWORDS.items() if lang not in found}
        best = max(shares, key=shares.get, default=None)
        if best is None or shares[best] < (MIN_SECOND_SHARE if found else MIN_SHARE):
            break
        found.append(best)
        taken |= STOPWORDS[best]
    return found


def stopwords_of(langs: list[str]) -> frozenset[str]:
    return frozenset().union(*(STOPWORDS[lang] for lang in langs)) if langs else frozenset()
